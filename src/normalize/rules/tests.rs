//! Every rule's fact about ASCII, checked against what the rule does to
//! ASCII words on the character-by-character path: a rule whose fact is
//! wrong would make the ASCII shortcut change the normalizer's output.

use super::lexicon::LEXICON;
use super::*;
use crate::normalize::{Normalized, Normalizer, WordState};

/// The normalizer's text and byte map for `text`, without the shortcut.
fn slow(config: &NormalizerConfig, text: &str) -> (String, Vec<u32>, Vec<u32>) {
    let mut out = Normalized::default();
    Normalizer::new(config.clone()).normalize_with(
        text,
        &mut out,
        &mut WordState::default(),
        false,
    );
    (out.text, out.starts, out.ends)
}

/// Words of ASCII letters: single letters, innocent words, and lexicon
/// words as written, stretched and in other cases.
fn words() -> Vec<String> {
    let mut words: Vec<String> = [
        "a",
        "i",
        "x",
        "A",
        "I",
        "aa",
        "Aa",
        "ok",
        "Ww",
        "good",
        "Good",
        "GOOD",
        "bee",
        "heyyy",
        "wellll",
        "sooooo",
        "kiil",
        "kiill",
        "fuuck",
        "FUuck",
        "bulllshit",
        "Scunthorpe",
        "assessment",
        "cocktail",
    ]
    .map(String::from)
    .to_vec();
    for w in LEXICON {
        let stretch = |k: usize| {
            w.chars()
                .flat_map(|c| std::iter::repeat(c).take(k))
                .collect()
        };
        words.extend([w.to_string(), w.to_uppercase(), stretch(2), stretch(3)]);
        words.push(w[..1].to_uppercase() + &w[1..]);
        for i in 0..w.len() {
            words.push(format!("{}{}", &w[..=i], &w[i..]));
        }
    }
    words
}

/// Every character rule on: no word rule runs.
fn char_rules_only() -> NormalizerConfig {
    NormalizerConfig {
        confusables: false,
        leetspeak: false,
        separators: false,
        masks: false,
        max_repeat: 0,
        ..NormalizerConfig::default()
    }
}

/// Turns the word rule `name` off in `config`. Each word rule needs a
/// line here for its fact to be checked.
fn switch_off(name: &str, config: &mut NormalizerConfig) {
    match name {
        "confusables" => config.confusables = false,
        "diacritics" => config.strip_diacritics = false,
        "separators" => config.separators = false,
        "masks" => config.masks = false,
        "leetspeak" => config.leetspeak = false,
        "squeeze" => config.max_repeat = 0,
        _ => panic!("no way to switch the word rule {name:?} off in this test"),
    }
}

#[test]
fn char_rule_facts_hold_on_printable_ascii() {
    for bits in 0..8 {
        let config = NormalizerConfig {
            nfkc: bits & 1 != 0,
            lowercase: bits & 2 != 0,
            strip_diacritics: bits & 4 != 0,
            ..char_rules_only()
        };
        let effect = ascii_effect(&config);
        let facts: Vec<_> = CHAR_RULES
            .iter()
            .map(|rule| (rule.name, (rule.ascii)(&config)))
            .collect();
        for b in b'!'..=b'~' {
            let text = char::from(b).to_string();
            let expected = match effect {
                AsciiEffect::Unchanged => text.clone(),
                AsciiEffect::Lowercase => text.to_ascii_lowercase(),
            };
            assert_eq!(
                slow(&config, &text),
                (expected, vec![0], vec![1]),
                "{facts:?} {config:?}"
            );
        }
    }
}

#[test]
fn word_rule_facts_hold_on_ascii_words() {
    let words = words();
    for rule in &WORD_RULES {
        for (lowercase, max_repeat) in [(true, 1), (true, 2), (true, 3), (false, 2)] {
            // The rule alone: on, and off.
            let mut on = NormalizerConfig {
                lowercase,
                max_repeat,
                ..NormalizerConfig::default()
            };
            for other in WORD_RULES.iter().filter(|r| r.name != rule.name) {
                switch_off(other.name, &mut on);
            }
            let mut off = on.clone();
            switch_off(rule.name, &mut off);
            for word in &words {
                // The shortcut offers upper-case letters only when case
                // folding will lower them.
                if !lowercase && word.bytes().any(|b| b.is_ascii_uppercase()) {
                    continue;
                }
                if (rule.may_change_letters)(word.as_bytes(), &on) {
                    continue;
                }
                for text in [
                    word.clone(),
                    format!("a b {word}"),
                    format!("{word} a b"),
                    format!("x {word} y"),
                ] {
                    assert_eq!(
                        slow(&on, &text),
                        slow(&off, &text),
                        "{} changes {text:?} with {on:?}, though its fact says it may not",
                        rule.name
                    );
                }
            }
        }
    }
}

#[test]
fn rules_have_distinct_names() {
    for rules in [
        CHAR_RULES.iter().map(|r| r.name).collect::<Vec<_>>(),
        WORD_RULES.iter().map(|r| r.name).collect(),
    ] {
        let mut names = rules.clone();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), rules.len(), "{rules:?}");
    }
}
