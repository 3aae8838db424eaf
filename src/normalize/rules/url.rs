//! URLs and e-mail addresses are kept as written (only case-folded): the
//! word rules skip them. This rule only ever keeps a word from changing,
//! so the ASCII shortcut needs no fact about it.

use crate::normalize::Ch;

/// URLs and e-mail addresses are kept as written (only case-folded).
#[inline]
pub(in crate::normalize) fn is_url_like(word: &[Ch]) -> bool {
    let starts_with =
        |p: &str| word.len() >= p.len() && word.iter().zip(p.chars()).all(|(ch, c)| ch.c == c);
    if starts_with("http://") || starts_with("https://") || starts_with("www.") {
        return true;
    }
    // name@host.tld
    let at = word.iter().position(|ch| ch.c == '@');
    matches!(at, Some(i) if i > 0
        && word[..i].iter().any(|ch| ch.c.is_alphanumeric())
        && word[i + 1..].iter().any(|ch| ch.c == '.'))
}
