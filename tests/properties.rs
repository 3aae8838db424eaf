//! Property tests over arbitrary text: whatever a comment system receives,
//! the pipeline keeps its promises.

use civility::{Moderator, Normalizer, Tokenizer};
use proptest::prelude::*;
use std::sync::OnceLock;

fn moderator() -> &'static Moderator {
    static M: OnceLock<Moderator> = OnceLock::new();
    M.get_or_init(|| Moderator::embedded().expect("embedded model"))
}

/// Text that looks like comments, with the characters evaders use.
fn comment() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z]{1,10}",
        "[0-9$@!*#.]{1,3}",
        Just(" ".to_string()),
        Just(". ".to_string()),
        Just("\u{200B}".to_string()),
        Just("\u{202E}".to_string()),
        Just("і".to_string()),
        Just("ｉｄｉｏｔ".to_string()),
        Just("👍🏽".to_string()),
        Just("e\u{301}".to_string()),
        Just("https://x.org/a ".to_string()),
        Just("@sam ".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn normalization_is_idempotent(text in comment()) {
        let n = Normalizer::default();
        let once = n.normalize(&text);
        let twice = n.normalize(once.as_str());
        prop_assert_eq!(once.as_str(), twice.as_str());
    }

    #[test]
    fn offsets_land_on_char_boundaries(text in comment()) {
        let normalized = Normalizer::default().normalize(&text);
        for token in Tokenizer.tokenize(&normalized) {
            prop_assert!(token.span.start <= token.span.end);
            prop_assert!(text.is_char_boundary(token.span.start));
            prop_assert!(text.is_char_boundary(token.span.end));
            prop_assert!(normalized.as_str().is_char_boundary(token.norm.start));
            prop_assert!(normalized.as_str().is_char_boundary(token.norm.end));
        }
    }

    #[test]
    fn scores_are_probabilities_and_deterministic(text in comment()) {
        let m = moderator();
        let a = m.score(&text);
        let b = m.score(&text);
        prop_assert_eq!(a.decision(), b.decision());
        for (ha, hb) in a.heads().zip(b.heads()) {
            let sum: f64 = ha.probabilities.iter().sum();
            prop_assert!((sum - 1.0).abs() < 1e-9, "{} sums to {}", ha.name, sum);
            for (&p, &q) in ha.probabilities.iter().zip(hb.probabilities) {
                prop_assert!((0.0..=1.0).contains(&p), "{} has {}", ha.name, p);
                prop_assert_eq!(p.to_bits(), q.to_bits());
            }
        }
    }

    #[test]
    fn explanations_point_into_the_comment(text in comment()) {
        for e in moderator().explain(&text).evidence {
            prop_assert_eq!(text.get(e.span.clone()), Some(e.text.as_str()));
            prop_assert!(e.weight.is_finite());
        }
    }
}
