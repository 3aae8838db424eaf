//! Invisible characters: zero-width characters, bidi controls, the soft
//! hyphen and other format characters that render as nothing and only
//! serve to hide words ("id\u{200B}iot"). The engine drops them wherever
//! they appear, and inside a word they do not split it.

use super::{AsciiEffect, CharRule};

/// The rule as the ASCII shortcut knows it. Its fact: no ASCII character
/// is invisible, so printable ASCII stays as it is.
pub(in crate::normalize) const RULE: CharRule = CharRule {
    name: "invisible",
    ascii: |_| AsciiEffect::Unchanged,
};

/// Zero-width characters, bidi controls, the soft hyphen and other
/// format characters that render as nothing and only serve to hide words.
#[inline]
pub(in crate::normalize) fn is_invisible(c: char) -> bool {
    // The first invisible character is U+00AD.
    c >= '\u{00AD}'
        && matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
}
