//! Diacritics (setting `strip_diacritics`): accented Latin letters lose
//! their accent ("stüpid" → "stupid"), after case folding, and combining
//! marks after a Latin letter are dropped — also, at the end of a word,
//! after letters that only became Latin when look-alikes were folded
//! ("і̧" → "i").

use super::{AsciiEffect, CharRule, WordRule};
use crate::normalize::Ch;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The character step as the ASCII shortcut knows it. Its fact: no ASCII
/// character has an accent or is a combining mark, so printable ASCII
/// stays as it is.
pub(in crate::normalize) const CHAR_RULE: CharRule = CharRule {
    name: "diacritics",
    ascii: |_| AsciiEffect::Unchanged,
};

/// The word step (`drop_marks_after_latin`) as the ASCII shortcut knows
/// it. Its fact: it only removes combining marks, and a word of ASCII
/// letters has none.
pub(in crate::normalize) const WORD_RULE: WordRule = WordRule {
    name: "diacritics",
    may_change_letters: |_, _| false,
};

/// `d`, the next character of `word`, without its accent; `None` if it
/// is a combining mark after a Latin letter, which is dropped.
#[inline]
pub(in crate::normalize) fn strip(d: char, word: &[Ch]) -> Option<char> {
    // No ASCII character is a combining mark or has an accent: the table
    // lookups are skipped for most characters.
    if d.is_ascii() {
        return Some(d);
    }
    if is_combining_mark(d) && word.last().is_some_and(|p| p.c.is_ascii_alphabetic()) {
        return None;
    }
    Some(latin_base(d).unwrap_or(d))
}

/// Drops combining marks after a Latin letter: accents on letters that
/// only became Latin when look-alikes were folded ("і̧" → "i").
#[inline]
pub(in crate::normalize) fn drop_marks_after_latin(word: &mut Vec<Ch>) {
    // No ASCII character is a combining mark.
    if word.iter().all(|ch| ch.c.is_ascii()) {
        return;
    }
    let mut prev_latin = false;
    word.retain(|ch| {
        let keep = !(prev_latin && is_combining_mark(ch.c));
        if keep {
            prev_latin = ch.c.is_ascii_alphabetic();
        }
        keep
    });
}

/// The ASCII base letter of an accented Latin letter ("é" → 'e'), or `None`.
fn latin_base(c: char) -> Option<char> {
    let mut first = None;
    decompose_canonical(c, |d| {
        if first.is_none() {
            first = Some(d);
        }
    });
    match first {
        Some(b) if b.is_ascii_alphabetic() && b != c => Some(b),
        _ => match c {
            'ı' => Some('i'),
            'ł' | 'Ł' => Some('l'),
            'ø' | 'Ø' => Some('o'),
            'đ' | 'Đ' => Some('d'),
            'ħ' => Some('h'),
            _ => None,
        },
    }
}
