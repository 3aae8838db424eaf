//! Unit tests of the feature stage.

use super::vectorizer::{merge_sorted, radix_sort};
use super::*;
use crate::normalize::Normalizer;
use crate::tokenize::Tokenizer;

fn features(config: FeatureConfig, text: &str) -> SparseVec {
    let n = Normalizer::default().normalize(text);
    let tokens = Tokenizer.tokenize(&n);
    Vectorizer::new(config)
        .unwrap()
        .transform(&n, text, &tokens)
}

fn words_only() -> FeatureConfig {
    FeatureConfig {
        word_ngrams: 1,
        char_min: 0,
        shape: false,
        tf: TermFrequency::Raw,
        ..FeatureConfig::default()
    }
}

#[test]
fn counts_words() {
    let v = features(words_only(), "no no no yes");
    assert_eq!(v.len(), 2);
    let mut values = v.values.clone();
    values.sort_by(f32::total_cmp);
    assert_eq!(values, [1.0, 3.0]);
}

#[test]
fn bigrams_add_one_feature_per_adjacent_pair() {
    let config = FeatureConfig {
        word_ngrams: 2,
        ..words_only()
    };
    assert_eq!(features(config, "one two three four").len(), 4 + 3);
}

#[test]
fn char_ngram_count() {
    // "<cat>" has 5 symbols: 3 trigrams, 2 four-grams, 1 five-gram.
    let config = FeatureConfig {
        char_min: 3,
        char_max: 5,
        ..words_only()
    };
    let v = features(config, "cat");
    assert_eq!(v.len(), 1 + 3 + 2 + 1);
}

#[test]
fn obfuscated_and_plain_spellings_share_features() {
    let config = FeatureConfig::default();
    assert_eq!(
        features(config.clone(), "You idiot"),
        features(config, "You 1d10t")
    );
}

#[test]
fn binary_and_log_tf() {
    let binary = features(
        FeatureConfig {
            tf: TermFrequency::Binary,
            ..words_only()
        },
        "no no no",
    );
    assert_eq!(binary.values, [1.0]);
    let log = features(
        FeatureConfig {
            tf: TermFrequency::Log,
            ..words_only()
        },
        "no no no",
    );
    assert!((log.values[0] - 4.0f32.ln()).abs() < 1e-6);
}

#[cfg(feature = "train")]
#[test]
fn sparse_rows_keep_rows_in_order_across_blocks() {
    let row = |i: usize| SparseVec {
        indices: (0..i as u32 % 5).map(|k| k * 3 + i as u32).collect(),
        values: (0..i % 5).map(|k| k as f32 + 0.5).collect(),
    };
    let n = SparseRows::BLOCK * 2 + 7;
    // Whole blocks join without a copy; a part after an unfinished
    // block is copied row by row.
    for split in [SparseRows::BLOCK, SparseRows::BLOCK + 3, 0, n] {
        let (mut a, mut b) = (SparseRows::default(), SparseRows::default());
        (0..split).for_each(|i| a.push(row(i).view()));
        (split..n).for_each(|i| b.push(row(i).view()));
        a.append(b);
        assert_eq!(a.iter().count(), n);
        for i in 0..n {
            assert_eq!(a.row(i), row(i).view(), "row {i} after a split at {split}");
        }
    }
}

proptest::proptest! {
    #[test]
    fn radix_sort_sorts(
        bits in 1u32..=32,
        keys in proptest::collection::vec(proptest::num::u32::ANY, 0..700),
    ) {
        let mask = if bits == 32 { u32::MAX } else { (1 << bits) - 1 };
        let mut keys: Vec<u32> = keys.into_iter().map(|k| k & mask).collect();
        let mut expected = keys.clone();
        expected.sort_unstable();
        radix_sort(&mut keys, &mut Vec::new(), bits);
        proptest::prop_assert_eq!(keys, expected);
    }
}

#[test]
fn long_comments_merge_as_short_ones_do() {
    // 2^8 buckets: this comment has far more feature occurrences than
    // a quarter of that, so it takes the table merge.
    let config = FeatureConfig {
        buckets_log2: 8,
        ..FeatureConfig::default()
    };
    let text = "You are an 1d10t, stop it!! Thanks for the careful article. ".repeat(20);
    let n = Normalizer::default().normalize(&text);
    let tokens = Tokenizer.tokenize(&n);
    let vectorizer = Vectorizer::new(config).unwrap();
    let mut keys = Vec::new();
    vectorizer.visit(&n, &text, &tokens, |_, b, w| {
        keys.push(b << 1 | u32::from(w == 1.0))
    });
    assert!(keys.len() >= vectorizer.n_features() / 4);
    keys.sort_unstable();
    let mut sorted = SparseVec::default();
    merge_sorted(&keys, [0.3, 1.0], TermFrequency::Binary, &mut sorted);
    assert_eq!(vectorizer.transform(&n, &text, &tokens), sorted);
}

#[test]
fn shape_feature_for_capitals() {
    let config = FeatureConfig {
        shape: true,
        ..words_only()
    };
    assert_eq!(features(config.clone(), "STOP").len(), 2);
    assert_eq!(features(config, "Stop").len(), 1);
}

#[test]
fn negation_marks_words_until_punctuation() {
    let config = FeatureConfig {
        negation: true,
        ..words_only()
    };
    let plain = features(config.clone(), "hate");
    let negated = features(config.clone(), "I don't hate them");
    let after = features(config.clone(), "I don't know. hate");
    let far = features(config, "no one two three four five six hate");
    let hate = plain.indices[0];
    assert!(
        !negated.indices.contains(&hate),
        "negated 'hate' must differ"
    );
    assert!(
        after.indices.contains(&hate),
        "the scope ends at the full stop"
    );
    assert!(
        far.indices.contains(&hate),
        "the scope ends after six words"
    );
    let off = features(words_only(), "I don't hate them");
    assert!(off.indices.contains(&hate), "negation off by default");
}

#[test]
fn validate_rejects_out_of_range() {
    for bad in [
        FeatureConfig {
            buckets_log2: 30,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            word_ngrams: 0,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            char_min: 5,
            char_max: 3,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            char_weight: f32::NAN,
            ..FeatureConfig::default()
        },
    ] {
        assert!(Vectorizer::new(bad).is_err());
    }
}

#[test]
fn group_words_share_their_class_features() {
    let config = |groups| FeatureConfig {
        word_ngrams: 2,
        groups,
        ..words_only()
    };
    let shared =
        |a: &SparseVec, b: &SparseVec| a.indices.iter().filter(|i| b.indices.contains(i)).count();
    let (a, b) = ("Albanians are vermin", "Uyghurs are vermin");
    // Without the class: only "are", "vermin" and the bigram "are vermin".
    let (pa, pb) = (features(config(false), a), features(config(false), b));
    assert_eq!(shared(&pa, &pb), 3);
    // With it: also the class, "<group> are", and "are" and "vermin" near
    // a group word.
    let (ga, gb) = (features(config(true), a), features(config(true), b));
    assert_eq!(shared(&ga, &gb), 7);
    assert_eq!(ga.len(), pa.len() + 4);
    // A comment without a group word is what it was.
    let plain = "the council are vermin";
    assert_eq!(
        features(config(true), plain),
        features(config(false), plain)
    );
    // Near means at most three tokens away.
    let far = features(
        config(true),
        "Albanians, a people, and then the word vermin",
    );
    let close = features(
        config(false),
        "Albanians, a people, and then the word vermin",
    );
    assert!(far.len() > close.len());
    let vermin_near = |v: &SparseVec| {
        let near = features(config(true), "Albanians vermin");
        let only = features(config(false), "Albanians vermin");
        near.indices
            .iter()
            .filter(|i| !only.indices.contains(i))
            .filter(|i| v.indices.contains(i))
            .count()
    };
    // "Albanians" as a class, and... "vermin" near it only in the close one.
    assert!(vermin_near(&ga) >= 2);
    assert!(vermin_near(&far) < vermin_near(&ga));
}
