//! Leetspeak (setting `leetspeak`): digits and symbols inside words
//! become the letters they stand for ("1d10t", "sh!t", "a$$hole"), while
//! numbers, ordinals and names stay ("2020", "4th", "covid19"). A word of
//! one leetspeak character may also be a letter of a spelled-out word.

use super::lexicon::lexicon_word;
use super::WordRule;
use crate::normalize::Ch;

/// The rule as the ASCII shortcut knows it. Its fact: it needs a digit or
/// symbol in the word, so it never changes a word of ASCII letters.
pub(in crate::normalize) const RULE: WordRule = WordRule {
    name: "leetspeak",
    may_change_letters: |_, _| false,
};

/// The letter a leetspeak character stands for.
#[inline]
pub(in crate::normalize) fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// Folds leetspeak in a word that mixes letters with digits or symbols
/// ("1d10t", "m0ron", "sh!t", "a$$hole", "h473"), but leaves numbers,
/// ordinals and names whose digits all come after their letters alone
/// ("2020", "4th", "100k", "covid19", "mp3"). A name with a digit between
/// letters is folded like leetspeak ("h1n1" becomes "hini"): telling it
/// from a disguised word ending in a digit would need a dictionary.
#[inline]
pub(in crate::normalize) fn fold_leet(core: &mut [Ch], spare: &mut Vec<Ch>) {
    let letters = core.iter().filter(|ch| ch.c.is_ascii_alphabetic()).count();
    let leet = core.iter().filter(|ch| leet_letter(ch.c).is_some()).count();
    let others = core.len() - letters - leet;
    if letters == 0 || leet == 0 || others > 0 {
        return;
    }
    let first_digit = core.first().is_some_and(|ch| ch.c.is_ascii_digit());
    // "covid19", "mp3", "win10": every digit after the last letter.
    let last_letter = core.iter().rposition(|ch| ch.c.is_ascii_alphabetic());
    let trailing_digits_only = core
        .iter()
        .enumerate()
        .filter(|(_, ch)| leet_letter(ch.c).is_some())
        .all(|(i, ch)| ch.c.is_ascii_digit() && Some(i) > last_letter);
    // "4th", "100k", "1990s": digits then a short suffix.
    let digits_then_letters = first_digit && {
        let n = core.iter().take_while(|ch| ch.c.is_ascii_digit()).count();
        core[n..].iter().all(|ch| ch.c.is_ascii_alphabetic()) && core.len() - n <= 3
    };
    let folded = spare;
    folded.clear();
    folded.extend(core.iter().map(|ch| Ch {
        c: leet_letter(ch.c).unwrap_or(ch.c),
        ..*ch
    }));
    // Names and numbers are left alone, unless they spell a lexicon word.
    if (digits_then_letters || trailing_digits_only) && lexicon_word(folded).is_none() {
        return;
    }
    core.copy_from_slice(folded);
}
