//! Case folding (setting `lowercase`): full Unicode lower-casing of every
//! character, after NFKC and before accents are stripped ("Ħ" lowers to
//! "ħ", whose base letter is "h").

use super::{AsciiEffect, CharRule};

/// The rule as the ASCII shortcut knows it. Its fact: when on, it
/// lower-cases ASCII letters byte for byte, which the shortcut does
/// itself on the chunk it copies; when off, ASCII stays as it is.
pub(in crate::normalize) const RULE: CharRule = CharRule {
    name: "case",
    ascii: |config| match config.lowercase {
        true => AsciiEffect::Lowercase,
        false => AsciiEffect::Unchanged,
    },
};

/// Calls `f` with each character of the lower-case form of `c`.
#[inline]
pub(in crate::normalize) fn fold(c: char, f: impl FnMut(char)) {
    c.to_lowercase().for_each(f);
}
