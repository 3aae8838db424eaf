//! Normalization of any UTF-8: no panic, offsets inside the input and on
//! character boundaries, and a second pass changes nothing.
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
});
