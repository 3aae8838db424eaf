//! Loading arbitrary bytes as a model: an error or a model, never a panic
//! or a runaway allocation. Seed the corpus with real model files
//! (tests/data/model-v1.civ) so the fuzzer reaches the header and counts.
#![no_main]

use civility::{Model, Moderator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(model) = Model::from_bytes(bytes) {
        if let Ok(moderator) = Moderator::new(model) {
            let _ = moderator.score("you are an idiot");
        }
    }
});
