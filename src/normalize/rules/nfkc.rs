//! Unicode compatibility composition (NFKC, setting `nfkc`): fullwidth
//! and mathematical letters become plain letters ("ｉｄｉｏｔ", "𝐢𝐝𝐢𝐨𝐭").
//! The first step on each character, before case folding.

use super::{AsciiEffect, CharRule};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The rule as the ASCII shortcut knows it. Its fact: every ASCII
/// character is its own NFKC form, so printable ASCII stays as it is.
pub(in crate::normalize) const RULE: CharRule = CharRule {
    name: "nfkc",
    ascii: |_| AsciiEffect::Unchanged,
};

/// True if `c` may not be its own NFKC form: false for ASCII and for the
/// many characters the quick check vouches for, which then need no
/// normalizing iterator.
#[inline]
pub(in crate::normalize) fn may_change(c: char) -> bool {
    !c.is_ascii() && is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes
}

/// The characters of the NFKC form of `c`.
#[inline]
pub(in crate::normalize) fn form(c: char) -> impl Iterator<Item = char> {
    std::iter::once(c).nfkc()
}
