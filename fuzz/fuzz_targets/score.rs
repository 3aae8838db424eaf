//! Scoring any UTF-8 with the default model: no panic, probabilities in
//! [0, 1] that sum to one per head, explanations pointing into the text;
//! and under a size limit cut anywhere in the text, a truncated verdict
//! whose explanation stays inside the scored part.
#![no_main]

use civility::{Decision, Moderator, Oversize, SizeLimit};
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
    if text.is_empty() {
        return;
    }
    // A limit somewhere inside the text, chosen by its length.
    let max_bytes = text.len() / 2;
    let limit = SizeLimit::new(max_bytes, Oversize::Review);
    let mut limited = moderator.clone();
    limited.set_size_limit(Some(limit));
    let verdict = limited.score(text);
    assert!(verdict.truncated());
    assert!(verdict.decision() >= Decision::Review);
    let scored = limit.cut(text).expect("over the limit").len();
    assert!(scored <= max_bytes);
    for e in limited.explain(text).evidence {
        assert!(e.span.end <= scored);
        assert_eq!(text.get(e.span.clone()), Some(e.text.as_str()));
    }
});
