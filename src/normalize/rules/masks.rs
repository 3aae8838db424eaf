//! Masks (setting `masks`): masked letters of a lexicon word are restored
//! ("f*ck", "b**ch", "f***"), and masks between the letters of a word we
//! do not know are dropped ("path*tic"). Runs in one pass with the
//! separators (`separators::fold_separators_and_masks`), since `.`, `-`
//! and `_` are both masks and separators.

use super::leet::leet_letter;
use super::lexicon::{LEXICON, LEXICON_MAX_LEN};
use super::WordRule;
use crate::normalize::Ch;

/// The rule as the ASCII shortcut knows it. Its fact: it needs a mask
/// character in the word, so it never changes a word of ASCII letters.
pub(in crate::normalize) const RULE: WordRule = WordRule {
    name: "masks",
    may_change_letters: |_, _| false,
};

/// Characters that may stand for a masked letter.
#[inline]
pub(in crate::normalize) fn is_mask(c: char) -> bool {
    matches!(c, '*' | '#' | '%' | '?' | '_' | '-' | '.')
}

/// Words people most often mask, tried first: "f***" is "fuck", not "fool".
pub(in crate::normalize) const MASK_FIRST: &[&str] = &[
    "fuck", "fucking", "fucked", "fucker", "shit", "bitch", "cunt", "asshole", "ass", "dick",
    "damn", "crap", "piss", "bastard", "whore", "slut",
];

/// A lexicon word that matches `core` with masked characters standing for
/// letters ("f*ck", "sh#t", "b**ch", "f***"); leetspeak characters also
/// match the letter they stand for. At least one real letter must remain.
#[inline]
pub(in crate::normalize) fn unmask(core: &[Ch]) -> Option<&'static str> {
    let masked = core.iter().filter(|ch| is_mask(ch.c)).count();
    let letters = core.iter().filter(|ch| ch.c.is_alphabetic()).count();
    if masked == 0 || letters == 0 || core.len() < 3 || core.len() > LEXICON_MAX_LEN {
        return None;
    }
    let fits = |w: &&str| {
        w.len() == core.len()
            && w.chars()
                .zip(core)
                .all(|(a, ch)| a == ch.c || is_mask(ch.c) || leet_letter(ch.c) == Some(a))
    };
    MASK_FIRST.iter().chain(LEXICON).copied().find(fits)
}
