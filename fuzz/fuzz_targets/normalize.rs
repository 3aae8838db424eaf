//! Normalization of any UTF-8: no panic, offsets inside the input and on
//! character boundaries, a second pass changes nothing, and the shortcut
//! for plain ASCII words gives what the character-by-character path does.
//! The first byte chooses which steps are on (all of them for most
//! inputs), so the shortcut is checked under other settings too.
#![no_main]

use civility::{Normalizer, NormalizerConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&steps, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let normalizer = Normalizer::new(config(steps));
    let once = normalizer.normalize(text);
    let out = once.as_str();
    for i in 0..out.len() {
        if out.is_char_boundary(i) {
            let r = once.original_range(i..out.len());
            assert!(r.start <= r.end && r.end <= text.len());
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
    if steps < 0x80 {
        // Idempotence is a property of the default settings only.
        assert_eq!(normalizer.normalize(out).as_str(), out);
    }
    let slow = normalizer.normalize_char_by_char(text);
    assert_eq!(slow.as_str(), out);
    for i in 0..=out.len() {
        for j in [i, out.len()] {
            assert_eq!(slow.original_range(i..j), once.original_range(i..j));
        }
    }
});

/// The default settings for a first byte below 0x80; above, each of its
/// low bits turns a step off and bits 5-6 choose `max_repeat` (0 to 3).
fn config(steps: u8) -> NormalizerConfig {
    let default = NormalizerConfig::default();
    if steps < 0x80 {
        return default;
    }
    let on = |bit: u8| steps & (1 << bit) == 0;
    NormalizerConfig {
        lowercase: on(0),
        separators: on(1),
        masks: on(2),
        leetspeak: on(3),
        confusables: on(4),
        max_repeat: usize::from((steps >> 5) & 3),
        ..default
    }
}
