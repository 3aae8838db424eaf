//! Look-alike letters (setting `confusables`): Cyrillic and Greek letters
//! that look Latin become Latin inside Latin words ("іdiot" with a
//! Cyrillic і). The first word rule of each round.

use super::WordRule;
use crate::normalize::Ch;

/// The rule as the ASCII shortcut knows it. Its fact: it only rewrites
/// Cyrillic and Greek letters, so it never changes a word of ASCII
/// letters.
pub(in crate::normalize) const RULE: WordRule = WordRule {
    name: "confusables",
    may_change_letters: |_, _| false,
};

/// A Latin look-alike for a Cyrillic or Greek lower-case letter.
fn confusable(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic
        'а' => 'a',
        'в' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' => 't',
        'ս' => 'u',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' => 'x',
        'у' | 'ү' => 'y',
        // Greek
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        _ => return None,
    })
}

/// Folds look-alike letters when the word is Latin with a few foreign
/// letters mixed in, or consists only of look-alikes. A Russian or Greek
/// word with letters that have no Latin look-alike is left alone.
#[inline]
pub(in crate::normalize) fn fold_confusables(core: &mut [Ch]) {
    let mut confusables = 0;
    let mut latin = 0;
    let mut other = 0;
    for ch in core.iter() {
        if ch.c.is_ascii_alphabetic() {
            latin += 1;
        } else if confusable(ch.c).is_some() {
            confusables += 1;
        } else if ch.c.is_alphabetic() {
            other += 1;
        }
    }
    if confusables == 0 || other > 0 || (latin == 0 && confusables < 2) {
        return;
    }
    for ch in core.iter_mut() {
        if let Some(l) = confusable(ch.c) {
            ch.c = l;
        }
    }
}
