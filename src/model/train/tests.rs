//! Tests of training: its steps one by one, and whole models trained on
//! small corpora.

use super::balance::equalizing;
use super::bias::{argmax, tune_class_bias};
use super::refined::{refine_rows, RefineInput};
use super::*;
use crate::data::LoadOptions;
use crate::data::{Example, Part};
use crate::error::SettingError;
use crate::features::{SparseRef, SparseRows, SparseVec};
use crate::metrics;
use crate::testing::XorShift;
use std::path::{Path, PathBuf};

fn macro_f1(logits: &[f64], k: usize, truth: &[usize], bias: &[f64]) -> f64 {
    let predicted: Vec<usize> = logits
        .chunks_exact(k)
        .map(|row| {
            let shifted: Vec<f64> = row.iter().zip(bias).map(|(z, b)| z + b).collect();
            argmax(&shifted)
        })
        .collect();
    metrics::ConfusionMatrix::new(truth, &predicted, k).macro_f1()
}

/// Logits of a classifier pulled toward the frequent class: every row
/// gets a noisy signal for its class plus a log-prior per class.
fn imbalanced(rng: &mut XorShift, sizes: &[usize], signal: f64) -> (Vec<f64>, Vec<usize>) {
    let k = sizes.len();
    let n: usize = sizes.iter().sum();
    let log_prior: Vec<f64> = sizes.iter().map(|&s| (s as f64 / n as f64).ln()).collect();
    let (mut logits, mut truth) = (Vec::new(), Vec::new());
    for (c, &size) in sizes.iter().enumerate() {
        for _ in 0..size {
            for (j, lp) in log_prior.iter().enumerate() {
                let s = if j == c { signal } else { 0.0 };
                logits.push(s + rng.normal() + 2.0 * lp);
            }
            truth.push(c);
        }
    }
    assert_eq!(logits.len(), n * k);
    (logits, truth)
}

fn example(labels: Vec<Option<u16>>, fractional: Vec<(usize, u16, f32)>) -> Example {
    Example {
        text: String::new(),
        labels,
        weight: 2.0,
        source: 0,
        part: Part::Train,
        hash: 0,
        fractional,
    }
}

#[test]
fn refine_rows_carry_fractional_labels_on_every_head() {
    // Head 0 is binary, head 1 has three labels; comment 1 has only
    // fractional labels, on both heads.
    let train = [
        example(vec![Some(1), Some(2)], vec![]),
        example(
            vec![None, None],
            vec![(0, 0, 0.5), (0, 1, 0.5), (1, 0, 0.5), (1, 1, 0.5)],
        ),
    ];
    let train: Vec<&Example> = train.iter().collect();
    let mut vectors = SparseRows::default();
    vectors.push(SparseRef::default());
    vectors.push(SparseRef::default());
    let copy = SparseVec {
        indices: vec![3],
        values: vec![1.0],
    };
    let disguised = [(1, copy)];
    let balance = vec![vec![vec![1.0, 3.0], vec![1.0, 1.0, 0.5]]];
    let input = RefineInput {
        train: &train,
        vectors: &vectors,
        disguised: &disguised,
        balance: &balance,
        total: &[],
        fold_heads: &[],
        folds: Folds {
            n: 1,
            cross_fit: false,
        },
    };
    let rows = |h, copies| -> Vec<(usize, f64)> {
        refine_rows(&input, h, copies, |_| true)
            .into_iter()
            .map(|(_, c, w)| (c, w))
            .collect()
    };
    // Weight 2, times the share, times the balance factor.
    assert_eq!(rows(0, false), vec![(1, 6.0), (0, 1.0), (1, 3.0)]);
    assert_eq!(rows(1, false), vec![(2, 1.0), (0, 1.0), (1, 1.0)]);
    // A disguised copy has the rows of its comment.
    let with_copies = refine_rows(&input, 0, true, |_| true);
    assert_eq!(with_copies.len(), 5);
    assert!(with_copies[3..]
        .iter()
        .all(|r| r.0 == disguised[0].1.view()));
    assert_eq!((with_copies[3].1, with_copies[3].2), (0, 1.0));
    assert_eq!((with_copies[4].1, with_copies[4].2), (1, 3.0));
    // Comments left out of the fit give no rows.
    assert!(refine_rows(&input, 0, true, |_| false).is_empty());
}

#[test]
fn equalizing_factors() {
    let f = equalizing(&[1.0, 3.0, 0.0, 4.0]);
    // Each label with weight is brought to the mean, 8 / 3.
    assert_eq!(f[0], (8.0 / 3.0) as f32);
    assert_eq!(f[1], (8.0 / 9.0) as f32);
    assert_eq!(f[2], 1.0);
    assert_eq!(f[3], (8.0 / 12.0) as f32);
    assert_eq!(equalizing(&[0.0, 5.0]), vec![1.0, 1.0]);
    assert_eq!(equalizing(&[]), Vec::<f32>::new());
}

#[test]
fn bias_search_improves_macro_f1_on_an_imbalanced_problem() {
    let mut rng = XorShift(7);
    let (logits, truth) = imbalanced(&mut rng, &[2000, 300, 100, 50], 2.5);
    let before = macro_f1(&logits, 4, &truth, &[0.0; 4]);
    let bias = tune_class_bias(&logits, 4, &truth);
    let after = macro_f1(&logits, 4, &truth, &bias);
    assert!(after > before + 0.1, "macro-F1 {before:.3} -> {after:.3}");
    // Centred, and the rare classes are pushed up against the frequent one.
    assert!(bias.iter().sum::<f64>().abs() < 1e-9, "{bias:?}");
    assert!(bias[3] > bias[0] && bias[2] > bias[0], "{bias:?}");
    // Generalizes: the biases help on a fresh sample of the same problem.
    let (fresh, fresh_truth) = imbalanced(&mut rng, &[2000, 300, 100, 50], 2.5);
    assert!(
        macro_f1(&fresh, 4, &fresh_truth, &bias)
            > macro_f1(&fresh, 4, &fresh_truth, &[0.0; 4]) + 0.05
    );
}

#[test]
fn bias_search_never_lowers_macro_f1_and_is_deterministic() {
    let mut rng = XorShift(11);
    for trial in 0..30 {
        let k = 2 + (rng.next_u64() % 5) as usize;
        let sizes: Vec<usize> = (0..k).map(|_| 1 + (rng.next_u64() % 60) as usize).collect();
        let signal = 3.0 * rng.unit();
        let (mut logits, truth) = imbalanced(&mut rng, &sizes, signal);
        if trial % 3 == 0 {
            // Ties everywhere: coarse logits.
            for z in &mut logits {
                *z = z.round();
            }
        }
        let bias = tune_class_bias(&logits, k, &truth);
        assert_eq!(bias, tune_class_bias(&logits, k, &truth));
        assert!(bias.iter().all(|b| b.is_finite()));
        let (before, after) = (
            macro_f1(&logits, k, &truth, &vec![0.0; k]),
            macro_f1(&logits, k, &truth, &bias),
        );
        assert!(
            after >= before - 1e-12,
            "trial {trial}: {before} -> {after}"
        );
    }
}

#[test]
fn bias_search_degenerate_inputs() {
    assert_eq!(tune_class_bias(&[], 3, &[]), vec![0.0; 3]);
    // Mismatched lengths: no biases.
    assert_eq!(tune_class_bias(&[1.0, 2.0, 3.0], 2, &[0]), vec![0.0; 2]);
    // Rows with a non-finite logit or an unknown class are ignored.
    let logits = [0.0, 1.0, f64::NAN, 0.0, 0.0, 1.0, 0.0, 3.0];
    let bias = tune_class_bias(&logits, 2, &[0, 1, 5, 1]);
    assert!(bias.iter().all(|b| b.is_finite()));
    let usable = [0.0, 1.0, 0.0, 3.0];
    assert_eq!(macro_f1(&usable, 2, &[0, 1], &bias), 1.0);
}

/// A configuration with a binary head and a three-label head whose
/// labels are unbalanced (60 / 8 / 6), with some multi-label rows.
fn write_corpus(dir: &Path, tone: &str) -> PathBuf {
    let mut rng = XorShift(3);
    let words = [
        ["glad", "great", "lovely", "thanks"],
        ["furious", "outrage", "hate", "angry"],
        ["scared", "afraid", "worried", "fear"],
    ];
    let shared = ["the", "and", "this", "is", "that", "today", "news", "story"];
    let labels = ["joy", "anger", "fear"];
    let mut rows = String::new();
    let mut n = 0;
    for (c, &count) in [60, 8, 6].iter().enumerate() {
        for _ in 0..count * 5 {
            let mut text: Vec<String> = (0..4)
                .map(|_| shared[(rng.next_u64() % 8) as usize].to_string())
                .collect();
            // Half the rows carry a word of their class, a tenth one of
            // another class.
            if rng.unit() < 0.5 {
                text.push(words[c][(rng.next_u64() % 4) as usize].into());
            }
            if rng.unit() < 0.1 {
                let o = (rng.next_u64() % 3) as usize;
                text.push(words[o][(rng.next_u64() % 4) as usize].into());
            }
            text.push(format!("w{n}"));
            n += 1;
            let uncivil = c == 1;
            let emotions = if rng.unit() < 0.1 {
                format!("[\"{}\", \"{}\"]", labels[c], labels[(c + 1) % 3])
            } else {
                format!("[\"{}\"]", labels[c])
            };
            rows.push_str(&format!(
                "{{\"text\": \"{}\", \"uncivil\": {uncivil}, \"emotions\": {emotions}}}\n",
                text.join(" ")
            ));
        }
    }
    std::fs::write(dir.join("rows.jsonl"), rows).unwrap();
    let config = format!(
        r#"
[pipeline.features]
buckets_log2 = 10
char_min = 0
norm = "l2"

[split]
holdout = 0.1

[[heads]]
name = "incivility"
labels = ["civil", "uncivil"]
positive = "uncivil"

[[heads]]
name = "tone"
labels = ["joy", "anger", "fear"]
{tone}

[[sources]]
name = "rows"
path = "rows.jsonl"
heads.incivility = {{ field = "uncivil", map = {{ "true" = "uncivil", "false" = "civil" }} }}
heads.tone = {{ field = "emotions", fractional = true }}
"#
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    path
}

fn train_with(tone: &str) -> Result<(Model, TrainReport)> {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainingConfig::from_path(write_corpus(dir.path(), tone))?;
    let data = Dataset::load(&config, &LoadOptions::default())?;
    train(&config, &data, &TrainOptions::default())
}

#[test]
fn tuned_biases_raise_out_of_fold_macro_f1_and_are_stored() {
    let (plain_model, plain) = train_with("variant = \"complement\"").unwrap();
    let (model, tuned) =
        train_with("variant = \"complement\"\ntune_bias = true\nbalance = true").unwrap();
    let f1 = |r: &TrainReport| r.heads[1].oof_macro_f1.unwrap();
    assert!(f1(&tuned) > f1(&plain), "{} -> {}", f1(&plain), f1(&tuned));
    assert!(plain.heads[1].class_bias.is_none());
    assert!(plain_model.heads[1].class_bias.is_none());
    let bias = tuned.heads[1].class_bias.clone().expect("biases");
    assert_eq!(model.heads[1].class_bias.as_ref(), Some(&bias));
    // The tone settings leave the binary head exactly as it was.
    assert_eq!(model.heads[0], plain_model.heads[0]);
    assert_eq!(tuned.heads[0].oof_roc_auc, plain.heads[0].oof_roc_auc);
    // The scorer applies them: the top label of every out-of-fold
    // comment is the argmax of logits plus biases.
    let moderator = crate::Moderator::new(model).unwrap();
    let verdict = moderator.score("furious outrage today");
    assert_eq!(verdict.tone().unwrap().top().0, "anger");
}

#[test]
fn balance_gives_each_label_equal_weight() {
    let (model, _) = train_with("balance = true").unwrap();
    let w = model.heads[1].class_weights();
    for x in w {
        assert!((x - w[0]).abs() < 1e-6 * w[0], "{w:?}");
    }
    // The binary head is not balanced.
    let b = model.heads[0].class_weights();
    assert!(b[0] > 3.0 * b[1], "{b:?}");
}

#[test]
fn fractional_labels_add_weight_to_every_label() {
    let (with, _) = train_with("").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), "");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("fractional = true", "single = true");
    std::fs::write(&path, text).unwrap();
    let config = TrainingConfig::from_path(&path).unwrap();
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (without, _) = train(&config, &data, &TrainOptions::default()).unwrap();
    let (a, b) = (
        with.heads[1].class_weights(),
        without.heads[1].class_weights(),
    );
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    assert!(sa > sb, "{a:?} vs {b:?}");
    // Multi-label rows count as fractions: each adds 1 in total.
    assert_eq!(sa.fract(), 0.0, "{a:?}");
    // The binary head saw the same rows either way.
    assert_eq!(with.heads[0], without.heads[0]);
}

/// Trains on the corpus of `write_corpus` with `extra` added to the
/// binary head's settings.
fn train_binary_with(extra: &str, threads: usize) -> Result<(Model, TrainReport)> {
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "positive = \"uncivil\"",
        &format!("positive = \"uncivil\"\n{extra}"),
    );
    std::fs::write(&path, text).unwrap();
    let config = TrainingConfig::from_path(&path)?;
    let data = Dataset::load(&config, &LoadOptions::default())?;
    let options = TrainOptions {
        threads,
        ..TrainOptions::default()
    };
    train(&config, &data, &options)
}

#[test]
fn refine_changes_its_head_only_and_whatever_the_threads() {
    let (plain, _) = train_binary_with("", 1).unwrap();
    let refine = "refine = { lambda = 1e-3, epochs = 5 }";
    let (one, report) = train_binary_with(refine, 1).unwrap();
    let (two, _) = train_binary_with(refine, 2).unwrap();
    assert_eq!(one, two, "the refined model depends on the threads");
    assert_eq!(
        report.heads[0].refine,
        Some(Refine {
            lambda: 1e-3,
            epochs: 5,
            augment: true
        })
    );
    // Column 0 is the binary head; the tone head's columns follow.
    let column = |m: &Model, c: usize| -> Vec<f32> {
        m.table
            .weights
            .chunks_exact(m.table.stride)
            .map(|row| row[c])
            .collect()
    };
    assert_ne!(column(&one, 0), column(&plain, 0));
    for c in 1..one.table.stride {
        assert_eq!(column(&one, c), column(&plain, c));
    }
    // A feature naive Bayes gives no weight keeps none.
    for (a, b) in column(&one, 0).iter().zip(column(&plain, 0)) {
        assert_eq!(*a == 0.0, b == 0.0);
    }
}

#[test]
fn refine_on_a_multi_class_head_changes_its_columns_only() {
    let (plain, _) = train_with("").unwrap();
    let (model, report) = train_with("refine = { lambda = 1e-3 }").unwrap();
    assert!(report.heads[1].refine.is_some());
    let columns = |m: &Model, range: std::ops::Range<usize>| -> Vec<f32> {
        m.table
            .weights
            .chunks_exact(m.table.stride)
            .flat_map(|row| row[range.clone()].to_vec())
            .collect()
    };
    assert_eq!(columns(&model, 0..1), columns(&plain, 0..1));
    assert_ne!(columns(&model, 1..4), columns(&plain, 1..4));
    let moderator = crate::Moderator::new(model).unwrap();
    let verdict = moderator.score("furious outrage today");
    assert_eq!(verdict.tone().unwrap().top().0, "anger");
}

#[test]
fn threshold_targets_keep_the_policy_consistent() {
    // The default policy reviews at 0.5 and rejects at 0.9: a reject
    // threshold chosen below that review threshold, or a review
    // threshold above that reject threshold, must not make training
    // fail at the end.
    for targets in [
        "reject_precision = 0.05",
        "review_recall = 0.02",
        "review_recall = 0.02\nreject_precision = 0.05",
    ] {
        let (model, _) = train_with(&format!("\n[thresholds]\n{targets}"))
            .unwrap_or_else(|e| panic!("{targets}: {e}"));
        let main = model.policy().main_rule();
        if let (Some(review), Some(reject)) = (main.review, main.reject) {
            assert!(reject >= review, "{targets}: {main:?}");
        }
    }
}

#[test]
fn a_label_carried_only_as_a_fraction_is_trained_and_counted() {
    // "fear" appears only beside "anger".
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::new();
    for (i, emotions) in ["[\"joy\"]", "[\"anger\"]", "[\"anger\", \"fear\"]"]
        .iter()
        .enumerate()
    {
        for n in 0..[30, 30, 10][i] {
            rows.push_str(&format!(
                "{{\"text\": \"comment {i} {n}\", \"emotions\": {emotions}}}\n"
            ));
        }
    }
    std::fs::write(dir.path().join("rows.jsonl"), rows).unwrap();
    let config = "[split]\nholdout = 0.0\n\n\
         [[heads]]\nname = 'tone'\nlabels = ['joy', 'anger', 'fear']\n\n\
         [[sources]]\nname = 'rows'\npath = 'rows.jsonl'\n\
         heads.tone = { field = 'emotions', fractional = true }\n";
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let config = TrainingConfig::from_path(&path).unwrap();
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (model, report) = train(&config, &data, &TrainOptions::default()).unwrap();
    assert_eq!(report.heads[0].examples, vec![30, 40, 10]);
    let w = model.heads[0].class_weights();
    assert_eq!(w, &[30.0, 35.0, 5.0]);
}

#[test]
fn thresholds_are_chosen_on_the_rows_calibration_falls_back_to() {
    // The calibration source has civil comments only: the calibration
    // map and the thresholds both use every source's comments.
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(
        dir.path(),
        "\n[calibration]\nsources = [\"civil\"]\n\n[thresholds]\nreview_recall = 0.8",
    );
    let rows: String = (0..40)
        .map(|i| format!("{{\"text\": \"a calm remark {i}\", \"uncivil\": false}}\n"))
        .collect();
    std::fs::write(dir.path().join("civil.jsonl"), rows).unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "\n[[sources]]\nname = \"civil\"\npath = \"civil.jsonl\"\n\
         heads.incivility = { field = \"uncivil\", \
         map = { \"true\" = \"uncivil\", \"false\" = \"civil\" } }\n",
    );
    std::fs::write(&path, text).unwrap();
    let config = TrainingConfig::from_path(&path).unwrap();
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let (_, report) = train(&config, &data, &TrainOptions::default()).unwrap();
    let chosen = report.thresholds.expect("thresholds");
    // Every training comment has an incivility label.
    assert_eq!(chosen.comments as usize, report.train_examples);
    assert!(chosen.review.is_some(), "{chosen:?}");
}

#[test]
fn a_head_can_choose_its_calibration_map() {
    let (platt, _) = train_binary_with("", 1).unwrap();
    let (isotonic, _) = train_binary_with("calibration = \"isotonic\"", 1).unwrap();
    assert!(matches!(
        platt.heads[0].calibration,
        Some(Calibration::Platt { .. })
    ));
    assert!(matches!(
        isotonic.heads[0].calibration,
        Some(Calibration::Tilted { .. })
    ));
}

#[test]
fn refine_settings_are_checked() {
    // Settings out of range are an error in the configuration.
    let result = train_binary_with("refine = { lambda = -1.0 }", 1);
    assert!(
        matches!(result, Err(Error::Config { ref message, .. }) if message.contains("refine.lambda")),
        "{result:?}"
    );
    for lambda in ["1e-200", "1e9", "nan"] {
        let result = train_binary_with(&format!("refine = {{ lambda = {lambda} }}"), 1);
        assert!(
            matches!(result, Err(Error::Config { ref message, .. }) if message.contains("refine.lambda")),
            "{lambda}: {result:?}"
        );
    }
}

#[test]
fn data_read_for_other_heads_is_refused() {
    use crate::config::TrainingConfig;
    use crate::data::{Dataset, LoadOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.jsonl");
    std::fs::write(
        &path,
        "{\"text\": \"a\", \"incivility\": \"civil\"}\n\
         {\"text\": \"b\", \"incivility\": \"uncivil\"}\n",
    )
    .unwrap();
    let heads = ["incivility", "insult"].map(String::from);
    let config = TrainingConfig::from_files(&[path], "text", &heads);
    let options = LoadOptions {
        drop_unlabelled_heads: true,
        ..LoadOptions::default()
    };
    let data = Dataset::load(&config, &options).unwrap();
    let result = train(&config, &data, &TrainOptions::default());
    assert!(
        matches!(
            result,
            Err(Error::InvalidSetting(SettingError::Mismatch(ref m))) if m.contains("other heads")
        ),
        "{:?}",
        result.err()
    );
}

#[test]
fn tune_bias_is_refused_without_folds() {
    let result = train_with("tune_bias = true\n\n[calibration]\nfolds = 0");
    assert!(
        matches!(result, Err(Error::Config { ref message, .. }) if message.contains("tune_bias")),
        "{result:?}"
    );
}

#[test]
fn tune_bias_is_refused_on_a_binary_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), "");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "positive = \"uncivil\"",
        "positive = \"uncivil\"\ntune_bias = true",
    );
    std::fs::write(&path, text).unwrap();
    let config = TrainingConfig::from_path(&path).unwrap();
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    assert!(matches!(
        train(&config, &data, &TrainOptions::default()),
        Err(Error::InvalidSetting(SettingError::Head { .. }))
    ));
}
