//! Scoring any UTF-8 with the default model: no panic, probabilities in
//! [0, 1] that sum to one per head, explanations pointing into the text.
#![no_main]

use civility::Moderator;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static MODERATOR: OnceLock<Moderator> = OnceLock::new();

fuzz_target!(|text: &str| {
    let moderator = MODERATOR.get_or_init(|| Moderator::embedded().expect("embedded model"));
    let verdict = moderator.score(text);
    for head in verdict.heads() {
        let sum: f64 = head.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert!(head.probabilities.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    for e in moderator.explain(text).evidence {
        assert_eq!(text.get(e.span.clone()), Some(e.text.as_str()));
    }
});
