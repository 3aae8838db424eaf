//! The public library API, used from outside the crate the way a comment
//! backend would: sharing, threads, batches, explanations and odd input.

use crate::util::{
    allocations, assert_valid_verdict, largest_allocation, small_moderator, validation_rows,
};
use civility::{
    Decision, Error, Explanation, Model, Moderator, Normalizer, Oversize, Pipeline, PipelineConfig,
    Policy, Rule, Scratch, SizeLimit, Vectorizer, Verdict,
};
use std::sync::Arc;

/// Compile-time: the types a server shares between threads are Send + Sync.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Moderator>();
    send_sync::<Model>();
    send_sync::<Verdict>();
    send_sync::<Explanation>();
    send_sync::<Policy>();
    send_sync::<Pipeline>();
    send_sync::<Normalizer>();
    send_sync::<Vectorizer>();
    send_sync::<Error>();
};

/// A verdict as the stable JSON string the CLI prints.
fn json(v: &Verdict) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn four_threads_sharing_one_moderator_agree_with_one_thread() {
    let moderator = Arc::new(small_moderator().clone());
    let texts: Arc<Vec<String>> = Arc::new(validation_rows().into_iter().map(|(_, t)| t).collect());
    let expected: Vec<String> = texts.iter().map(|t| json(&moderator.score(t))).collect();
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let moderator = Arc::clone(&moderator);
            let texts = Arc::clone(&texts);
            std::thread::spawn(move || {
                // Each thread walks the texts from a different start.
                let n = texts.len();
                (0..n)
                    .map(|i| (i + k * n / 4) % n)
                    .map(|i| (i, json(&moderator.score(&texts[i]))))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (i, got) in h.join().unwrap() {
            assert_eq!(got, expected[i], "text {i}");
        }
    }
}

#[test]
fn score_batch_equals_mapping_score() {
    let moderator = small_moderator();
    let texts: Vec<String> = validation_rows().into_iter().map(|(_, t)| t).collect();
    let batch = moderator.score_batch(&texts);
    assert_eq!(batch.len(), texts.len());
    for (v, t) in batch.iter().zip(&texts) {
        assert_eq!(json(v), json(&moderator.score(t)), "{t}");
    }
    let strs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batch: Vec<String> = moderator.score_batch(&strs).iter().map(json).collect();
    let parallel: Vec<String> = civility::evaluate::score_parallel(moderator, &strs, 3)
        .iter()
        .map(json)
        .collect();
    assert_eq!(batch, parallel);
    assert!(moderator.score_batch::<&str>(&[]).is_empty());
}

#[test]
fn explain_spans_are_char_boundary_ranges_of_the_input() {
    let moderator = small_moderator();
    let mut texts: Vec<String> = validation_rows().into_iter().map(|(_, t)| t).collect();
    texts.extend(
        [
            "you are an 1d10t",
            "Ｙｏｕ ａｒｅ ａｎ ｉｄｉｏｔ",
            "i.d.i.o.t and s t u p i d and f*ck and stuuupid",
            "Café naïve résumé — señor, straße ǅ ﬁne",
            "@Jen_K https://example.org/a?b=c 👍🏽 👨‍👩‍👧 100% !!!",
            "e\u{301}\u{301} \u{200b}idiot\u{200d} \u{202e}txet",
            "іdiot with a Cyrillic і",
            "",
        ]
        .map(String::from),
    );
    for text in &texts {
        let e = moderator.explain(text);
        assert_eq!(json(&e.verdict), json(&moderator.score(text)), "{text}");
        for ev in &e.evidence {
            assert!(
                ev.span.start <= ev.span.end && ev.span.end <= text.len(),
                "{text:?}"
            );
            assert!(
                text.is_char_boundary(ev.span.start) && text.is_char_boundary(ev.span.end),
                "{text:?}: {:?}",
                ev.span
            );
            assert_eq!(ev.text, &text[ev.span.clone()], "{text:?}");
            assert!(ev.weight.is_finite());
        }
        // Strongest push toward uncivil first.
        assert!(e.evidence.windows(2).all(|w| w[0].weight >= w[1].weight));
    }
}

#[test]
fn explain_points_at_the_obfuscated_insult() {
    let text = "you are an 1d10t";
    for moderator in [small_moderator(), &Moderator::embedded().unwrap()] {
        let e = moderator.explain(text);
        assert_eq!(e.evidence[0].text, "1d10t", "{:?}", e.evidence);
        assert_eq!(e.evidence[0].span, 11..16);
        assert!(e.evidence[0].weight > 0.0);
    }
}

#[test]
fn odd_input_gets_a_valid_verdict() {
    let moderator = small_moderator();
    let long_a = "a".repeat(1 << 20);
    let long_e = "é".repeat(1 << 19);
    let long_words = "idiot ".repeat((1 << 20) / 6);
    let cases: Vec<(&str, &str)> = vec![
        ("empty", ""),
        ("spaces", "   \n\t  "),
        ("emoji only", "😀😡👍🏽👨‍👩‍👧🔥"),
        ("1 MB of one character", &long_a),
        ("1 MB of a two-byte character", &long_e),
        ("1 MB of words", &long_words),
        (
            "control characters",
            "\u{0}\u{1}\u{7}\u{8}\u{1b}[31mred\u{7f}\r\u{85}",
        ),
        (
            "lone combining marks",
            "\u{301}\u{302}\u{20dd} \u{301}x\u{300}\u{300}\u{300}",
        ),
        ("invisible only", "\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}"),
        ("bidi controls", "\u{202e}\u{2066}abc\u{2069}\u{202c}"),
        ("noncharacters", "\u{fffe}\u{ffff}\u{10ffff}"),
        ("punctuation", "?!?!?!...,,,;;;"),
        ("digits", "1234567890 3.14 1,000,000"),
        ("scripts", "日本語のコメント، مرحبا שלום привет"),
    ];
    for (what, text) in cases {
        let v = moderator.score(text);
        assert_valid_verdict(&v, what);
        let e = moderator.explain(if text.len() > 4096 {
            &text[..4096]
        } else {
            text
        });
        assert_valid_verdict(&e.verdict, what);
        assert_eq!(v.heads().count(), 6, "{what}");
        assert!(v.tone().is_some(), "{what}");
        assert_eq!(v.attributes().count(), 4, "{what}");
    }
}

#[test]
fn invalid_thresholds_are_errors_and_change_nothing() {
    let mut moderator = small_moderator().clone();
    let before = moderator.policy().clone();
    for (review, reject) in [
        (Some(0.9), Some(0.5)),
        (Some(1.5), None),
        (None, Some(-0.1)),
        (Some(f64::NAN), None),
        (Some(0.95), None),
    ] {
        let err = moderator.set_thresholds(review, reject).unwrap_err();
        assert!(matches!(err, Error::InvalidSetting(_)), "{err:?}");
        assert_eq!(moderator.policy(), &before);
    }
    moderator.set_thresholds(Some(0.0), Some(1.0)).unwrap();
    assert_eq!(moderator.policy().main_rule().review, Some(0.0));
    assert_ne!(moderator.score("Thanks!").decision(), Decision::Allow);
}

#[test]
fn set_policy_checks_heads_and_labels() {
    let mut moderator = small_moderator().clone();
    let rule = |head: &str, label: &str| Rule {
        head: head.into(),
        label: label.into(),
        review: Some(0.5),
        reject: Some(0.9),
    };
    let bad = Policy::new(vec![rule("incivility", "uncivil"), rule("nope", "true")]).unwrap();
    assert!(moderator.set_policy(bad).is_err());
    let bad = Policy::new(vec![rule("insult", "true")]).unwrap();
    assert!(
        moderator.set_policy(bad).is_err(),
        "the main head must stay"
    );
    let good = Policy::new(vec![rule("incivility", "uncivil"), rule("insult", "true")]).unwrap();
    moderator.set_policy(good.clone()).unwrap();
    assert_eq!(moderator.policy(), &good);
}

#[test]
fn verdicts_say_which_rules_decided() {
    let moderator = Moderator::embedded().unwrap();
    let policy = moderator.policy().clone();
    for (_, text) in validation_rows() {
        let v = moderator.score(&text);
        let reasons = v.reasons();
        // The decision is the strictest the reasons name, and every reason
        // is a rule whose threshold the comment's probability reached.
        let expected = if reasons.iter().any(|r| r.ends_with(".reject")) {
            Decision::Reject
        } else if reasons.is_empty() {
            Decision::Allow
        } else {
            Decision::Review
        };
        assert_eq!(v.decision(), expected, "{text}: {reasons:?}");
        for reason in &reasons {
            let (head, level) = reason.rsplit_once('.').unwrap();
            let rule = policy.rules.iter().find(|r| r.head == head).unwrap();
            let p = v.probability(&rule.head, &rule.label).unwrap();
            let t = if level == "reject" {
                rule.reject
            } else {
                rule.review
            };
            assert!(p >= t.unwrap(), "{text}: {reason} at {p}");
        }
    }
    // A comment over the size limit held for review says so.
    let mut held = moderator.clone();
    held.set_size_limit(Some(SizeLimit::new(100, Oversize::Review)));
    let v = held.score(&"Thank you for the careful reporting. ".repeat(10));
    assert_eq!(v.decision(), Decision::Review);
    assert_eq!(v.reasons(), ["size_limit"]);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["reasons"], serde_json::json!(["size_limit"]));
}

#[test]
fn verdict_accessors_agree() {
    let v = small_moderator().score("You are a stupid idiot and a moron.");
    assert_eq!(v.probability("incivility", "uncivil"), Some(v.incivility()));
    assert_eq!(v.attribute("insult"), v.probability("insult", "true"));
    assert!(v.log_odds("incivility").unwrap().is_finite());
    assert_eq!(v.log_odds("tone"), None);
    assert_eq!(v.head("nope").map(|h| h.name), None);
    let tone = v.tone().unwrap();
    let (label, p) = tone.top();
    assert!(tone.probabilities.iter().all(|&q| q <= p));
    assert!(crate::util::TONES.contains(&label));
    let json: serde_json::Value = serde_json::to_value(&v).unwrap();
    assert_eq!(json["incivility"].as_f64(), Some(v.incivility()));
    assert_eq!(json["decision"], v.decision().as_str());
}

#[test]
fn pipeline_and_normalizer_from_outside() {
    let normalizer = Normalizer::default();
    let n = normalizer.normalize("You are an 1D10T!!");
    assert_eq!(n.as_str(), "you are an idiot!!");
    assert_eq!(n.original_range(11..16), 11..16);
    let pipeline = Pipeline::new(PipelineConfig::default()).unwrap();
    assert_eq!(
        pipeline.vectorize("you are an 1d10t"),
        pipeline.vectorize("You are an idiot")
    );
    let v = pipeline.vectorize("Thanks for the thoughtful reporting.");
    assert!(v.indices.windows(2).all(|w| w[0] < w[1]));
    assert!((v.indices.len() == v.values.len()) && !v.is_empty());
    let n_features = pipeline.vectorizer().n_features() as u32;
    assert!(v.indices.iter().all(|&i| i < n_features));
}

#[cfg(feature = "linfa")]
#[test]
fn naive_bayes_fit_adapter_is_usable_from_outside() {
    use civility::{NaiveBayesParams, Variant};
    use linfa::prelude::*;
    use ndarray::array;

    let x = array![[3., 0., 1.], [2., 1., 0.], [0., 4., 1.], [1., 3., 0.]];
    let y = array![0usize, 0, 1, 1];
    let data = linfa::Dataset::new(x.clone(), y.clone());
    for variant in [Variant::Multinomial, Variant::Complement] {
        let model = NaiveBayesParams::new()
            .alpha(0.5)
            .variant(variant)
            .fit(&data)
            .unwrap();
        assert_eq!(model.predict(&x), y, "{variant:?}");
        let jll = model.joint_log_likelihood(&x);
        assert_eq!(jll.dim(), (4, 2));
        assert!(jll.iter().all(|v| v.is_finite()));
    }
    assert!(NaiveBayesParams::new().alpha(0.0).fit(&data).is_err());
    assert!(NaiveBayesParams::new().alpha(-1.0).check().is_err());
    let negative = linfa::Dataset::new(array![[-1.0, 0.0]], array![0usize]);
    assert!(NaiveBayesParams::new().fit(&negative).is_err());
}

#[test]
fn the_embedded_model_loads_and_scores() {
    let moderator = Moderator::embedded().unwrap();
    assert_eq!(moderator.model(), &Model::embedded().unwrap());
    let names: Vec<&str> = moderator.model().heads().map(|h| h.name()).collect();
    assert_eq!(names[0], "incivility");
    for text in [
        "Thank you for the careful reporting.",
        "You are a stupid idiot.",
    ] {
        assert_valid_verdict(&moderator.score(text), text);
    }
    assert_eq!(
        moderator
            .score("Thank you for the careful reporting on the council budget.")
            .decision(),
        Decision::Allow
    );
}

#[test]
fn thresholds_are_chosen_for_their_targets() {
    use civility::data::{Dataset, LoadOptions};
    use civility::train::{train, TrainOptions};
    use civility::{ThresholdTargets, TrainingConfig};
    let mut config =
        TrainingConfig::from_path(crate::util::repo_path("tests/data/small.toml")).unwrap();
    config.thresholds = Some(ThresholdTargets {
        review_recall: Some(0.8),
        reject_precision: Some(0.95),
        ..ThresholdTargets::default()
    });
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (model, report) = train(&config, &data, &TrainOptions::default()).unwrap();
    let chosen = report.thresholds.expect("thresholds chosen");
    let rule = model.policy().main_rule();
    assert_eq!(rule.review, chosen.review);
    assert_eq!(rule.reject, chosen.reject);
    let (review, reject) = (chosen.review.unwrap(), chosen.reject.unwrap());
    assert!(
        0.0 < review && review <= reject && reject <= 1.0,
        "{review} {reject}"
    );
    // A stricter precision target can only raise the reject threshold.
    config.thresholds = Some(ThresholdTargets {
        review_recall: None,
        reject_precision: Some(0.99),
        ..ThresholdTargets::default()
    });
    let (_, stricter) = train(&config, &data, &TrainOptions::default()).unwrap();
    if let Some(r) = stricter.thresholds.and_then(|t| t.reject) {
        assert!(r >= reject, "{r} < {reject}");
    }
}

#[test]
fn allow_no_evidence_keeps_review_above_an_empty_comment() {
    use civility::data::{Dataset, LoadOptions};
    use civility::train::{train, TrainOptions};
    use civility::{ThresholdTargets, TrainingConfig};
    let mut config =
        TrainingConfig::from_path(crate::util::repo_path("tests/data/small.toml")).unwrap();
    // A review threshold at 0 would send every comment to review.
    config.policy.as_mut().unwrap().rules[0].review = Some(0.0);
    config.thresholds = Some(ThresholdTargets {
        allow_no_evidence: true,
        ..ThresholdTargets::default()
    });
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (model, report) = train(&config, &data, &TrainOptions::default()).unwrap();
    let moderator = Moderator::new(model).unwrap();
    let empty = moderator.score("");
    let nothing = report.thresholds.and_then(|t| t.no_evidence).unwrap();
    assert_eq!(empty.incivility(), nothing);
    assert!(moderator.policy().main_rule().review.unwrap() > nothing);
    assert_eq!(empty.decision(), Decision::Allow);
    assert_ne!(
        moderator
            .score("You are a stupid idiot and a moron.")
            .decision(),
        Decision::Allow
    );
}

#[test]
fn the_rules_of_other_heads_get_thresholds_for_their_targets() {
    use civility::data::{Dataset, LoadOptions};
    use civility::train::{train, TrainOptions};
    use civility::{Error, SettingError, Targets, ThresholdTargets, TrainingConfig};
    let mut config =
        TrainingConfig::from_path(crate::util::repo_path("tests/data/small.toml")).unwrap();
    let threat = Targets {
        review_recall: Some(0.8),
        reject_precision: Some(0.9),
    };
    config.thresholds = Some(ThresholdTargets {
        heads: [("threat".to_string(), threat)].into(),
        ..ThresholdTargets::default()
    });
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (model, report) = train(&config, &data, &TrainOptions::default()).unwrap();
    let chosen = &report.head_thresholds["threat"];
    let rule = &model.policy().rules[1];
    assert_eq!(rule.head, "threat");
    assert_eq!(rule.review, chosen.review.or(Some(0.5)));
    assert!(
        chosen.reject.is_some() || chosen.review.is_some(),
        "{chosen:?}"
    );
    if let Some(reject) = chosen.reject {
        assert_eq!(rule.reject, Some(reject));
    }
    // The main rule keeps the configured thresholds: it has no targets.
    assert_eq!(model.policy().main_rule().review, Some(0.5));
    assert!(report
        .thresholds
        .is_some_and(|t| t.review.is_none() && t.reject.is_none()));

    // A head without a rule of its own, or that does not exist, is refused.
    for head in ["insult", "nonesuch"] {
        config.thresholds = Some(ThresholdTargets {
            heads: [(head.to_string(), threat)].into(),
            ..ThresholdTargets::default()
        });
        let result = match Dataset::load(&config, &LoadOptions::default()) {
            Ok(data) => train(&config, &data, &TrainOptions::default()).map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(
            matches!(
                result,
                Err(Error::InvalidSetting(SettingError::Mismatch(_)))
            ),
            "{head}: {result:?}"
        );
    }
}

#[test]
fn scoring_allocates_per_comment_not_per_word() {
    let moderator = Moderator::embedded().unwrap();
    let texts: Vec<String> = validation_rows().into_iter().map(|(_, t)| t).collect();
    // About 12 KB, and about 40 KB, long enough for its features to be
    // merged in a table of every bucket rather than sorted.
    let long = texts[..100].join(" Stuuupid 1d10t, S c r e w you. ");
    let longer = texts[..330].join(" Stuuupid 1d10t, S c r e w you. ");
    assert!((35_000..60_000).contains(&longer.len()), "{}", longer.len());
    let mut scratch = Scratch::default();
    // Once the buffers have grown to the longest comment and word...
    moderator.score_with(&longer, &mut scratch);
    moderator.score_with(&long, &mut scratch);
    for text in &texts {
        moderator.score_with(text, &mut scratch);
    }
    // ...a verdict costs the same few allocations whatever the comment's
    // length: its probabilities and raw scores.
    let (_, for_long) = allocations(|| moderator.score_with(&long, &mut scratch));
    assert!(
        for_long <= 2,
        "{for_long} allocations for {} bytes",
        long.len()
    );
    let (_, for_longer) = allocations(|| moderator.score_with(&longer, &mut scratch));
    assert_eq!(for_longer, for_long, "{} bytes", longer.len());
    for text in &texts {
        let (verdict, n) = allocations(|| moderator.score_with(text, &mut scratch));
        assert_eq!(n, for_long, "{text}");
        drop(verdict);
    }
}

/// A civil comment of about `len` bytes.
fn long_civil_comment(len: usize) -> String {
    let sentence = "Thank you for the careful reporting on the council budget. ";
    sentence.repeat(len / sentence.len() + 1)
}

#[test]
fn a_comment_over_the_size_limit_is_scored_on_its_beginning() {
    let mut moderator = small_moderator().clone();
    assert_eq!(moderator.size_limit(), Some(SizeLimit::default()));
    assert_eq!(SizeLimit::default().max_bytes, 64 * 1024);
    let limit = SizeLimit::new(1000, Oversize::Truncate);
    moderator.set_size_limit(Some(limit));
    let text = format!("You stupid idiot. {}", long_civil_comment(5000));
    let verdict = moderator.score(&text);
    assert!(verdict.truncated());
    assert_valid_verdict(&verdict, "truncated");
    // The same as scoring the part that was kept, without a limit.
    let part = limit.cut(&text).unwrap();
    // Cut before a word, not inside one.
    assert!(part.len() <= 1000 && text[part.len()..].starts_with(' '));
    let mut unlimited = moderator.clone();
    unlimited.set_size_limit(None);
    let whole = unlimited.score(part);
    assert!(!whole.truncated());
    assert_eq!(verdict.incivility(), whole.incivility());
    assert_eq!(verdict.decision(), whole.decision());
    // Within the limit nothing changes, and the JSON has no flag.
    let short = moderator.score("Thanks.");
    assert!(!short.truncated());
    assert_eq!(json(&short), json(&unlimited.score("Thanks.")));
    assert!(!json(&short).contains("truncated"));
    let flagged: serde_json::Value = serde_json::from_str(&json(&verdict)).unwrap();
    assert_eq!(flagged["truncated"], true);
    // Without a limit the whole comment is scored.
    assert!(!unlimited.score(&text).truncated());
}

#[test]
fn oversize_policies_raise_the_decision() {
    let mut moderator = small_moderator().clone();
    let civil = long_civil_comment(3000);
    let insult = format!("{} You stupid idiot and moron.", "x".repeat(20));
    let cases = [
        (Oversize::Truncate, &civil, Decision::Allow),
        (Oversize::Review, &civil, Decision::Review),
        (Oversize::Reject, &civil, Decision::Reject),
    ];
    for (policy, text, expected) in cases {
        moderator.set_size_limit(Some(SizeLimit::new(2000, policy)));
        let v = moderator.score(text);
        assert!(v.truncated());
        assert_eq!(v.decision(), expected, "{policy:?}");
        // Explanations agree and point into the scored part.
        let e = moderator.explain(text);
        assert_eq!(json(&e.verdict), json(&v));
        assert!(e.evidence.iter().all(|w| w.span.end <= 2000));
    }
    // Review never lowers a rejection.
    moderator.set_thresholds(Some(0.1), Some(0.2)).unwrap();
    moderator.set_size_limit(None);
    let plain = moderator.score(&insult);
    assert_eq!(plain.decision(), Decision::Reject);
    moderator.set_size_limit(Some(SizeLimit::new(40, Oversize::Review)));
    let v = moderator.score(&format!("{insult} {civil}"));
    assert!(v.truncated());
    assert_eq!(v.decision(), Decision::Reject);
}

#[test]
fn scoring_a_huge_comment_under_the_default_limit_allocates_little() {
    let moderator = small_moderator().clone();
    let text = "a".repeat(10 << 20);
    let (verdict, largest) = largest_allocation(|| moderator.score(&text));
    assert!(verdict.truncated());
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}

#[test]
fn the_readme_configuration_example_is_a_valid_configuration() {
    let readme = std::fs::read_to_string(crate::util::repo_path("README.md")).unwrap();
    let block = readme
        .split("```toml")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains("[[sources]]"))
        .expect("the README shows a configuration with sources");
    let config: civility::TrainingConfig =
        toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
    config.validate().unwrap();
    let refine = config.heads[0].refine.expect("the example shows refine");
    assert!(refine.lambda > 0.0);
}
