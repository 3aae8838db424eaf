//! Normalization of any UTF-8: no panic, offsets inside the input and on
//! character boundaries, a second pass changes nothing, and the shortcut
//! for plain ASCII words gives what the character-by-character path does.
#![no_main]

use civility::Normalizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let normalizer = Normalizer::default();
    let once = normalizer.normalize(text);
    let out = once.as_str();
    for i in 0..out.len() {
        if out.is_char_boundary(i) {
            let r = once.original_range(i..out.len());
            assert!(r.start <= r.end && r.end <= text.len());
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
    assert_eq!(normalizer.normalize(out).as_str(), out);
    let slow = normalizer.normalize_char_by_char(text);
    assert_eq!(slow.as_str(), out);
    for i in 0..=out.len() {
        for j in [i, out.len()] {
            assert_eq!(slow.original_range(i..j), once.original_range(i..j));
        }
    }
});
