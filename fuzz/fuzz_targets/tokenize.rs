//! Tokenization of any UTF-8: no panic, spans on character boundaries of
//! the original, in order.
#![no_main]

use civility::{Normalizer, Tokenizer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let normalized = Normalizer::default().normalize(text);
    let mut last = 0;
    for token in Tokenizer.tokenize(&normalized) {
        assert!(token.norm.start >= last);
        last = token.norm.end;
        assert!(text.is_char_boundary(token.span.start));
        assert!(text.is_char_boundary(token.span.end));
        assert!(token.span.start <= token.span.end && token.span.end <= text.len());
    }
});
