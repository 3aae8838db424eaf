//! Training a [`Model`] from labelled comments.
//!
//! 1. Every training comment is run through the pipeline once (in parallel).
//! 2. Counts are accumulated per head, separately for each of `folds`
//!    cross-fitting folds; the model's counts are their sum.
//! 3. Because naive Bayes counts add up, "the model without fold k" is the
//!    total minus fold k. Each comment is scored by the model that did not
//!    see it, and the calibration map of each head is fitted on those
//!    out-of-fold scores: probabilities that hold on unseen comments, not
//!    the over-confident ones naive Bayes gives its own training data.
//!
//! Training is deterministic: the same configuration and data give the
//! same model file, byte for byte.
//!
//! # Examples
//!
//! ```no_run
//! use civility::data::{Dataset, LoadOptions};
//! use civility::TrainingConfig;
//! use civility::train::{train, TrainOptions};
//!
//! let config = TrainingConfig::from_path("models/default.toml")?;
//! let data = Dataset::load(&config, &LoadOptions::default())?;
//! let (model, report) = train(&config, &data, &TrainOptions::default())?;
//! model.save("my-model.civ")?;
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::calibration::{self, Calibration, Temperature};
use super::naive_bayes::{Head, HeadWeights};
use super::params::{CalibrationMethod, CalibrationWeights};
use super::refine::{self, Refine};
use super::{HeadState, Model, Table};
use crate::config::TrainingConfig;
use crate::data::{Dataset, Example, Part, SourceReport};
use crate::error::{Error, Result};
use crate::features::{SparseRef, SparseRows, SparseVec};
use crate::metrics;
use crate::parallel::parallel_map;
use crate::pipeline::{Pipeline, Scratch};
use crate::policy::{Policy, Rule};
use serde::Serialize;

/// A progress callback: (stage, done, total).
pub type Progress<'a> = dyn Fn(&str, usize, usize) + Sync + 'a;

/// How training runs.
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Worker threads for feature extraction and the refinement fits
    /// (0 = all cores).
    pub threads: usize,
    /// Called with (stage, done, total) as training progresses.
    pub progress: Option<&'a Progress<'a>>,
}

/// What training did, per head.
#[derive(Debug, Clone, Serialize)]
pub struct HeadReport {
    /// The head.
    pub name: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// Training comments per label (a comment with fractional labels
    /// counts toward each of them).
    pub examples: Vec<u64>,
    /// The calibration fitted on out-of-fold scores.
    pub calibration: Option<Calibration>,
    /// The temperature fitted on out-of-fold scores.
    pub temperature: Option<Temperature>,
    /// Per-class biases added to a multi-class head's logits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_bias: Option<Vec<f64>>,
    /// Out-of-fold ROC AUC (binary heads).
    pub oof_roc_auc: Option<f64>,
    /// Out-of-fold macro-F1 (multi-class heads).
    pub oof_macro_f1: Option<f64>,
    /// The refinement of the naive Bayes weights, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<Refine>,
}

/// The main rule's thresholds chosen for the `[thresholds]` targets.
#[derive(Debug, Clone, Serialize)]
pub struct ChosenThresholds {
    /// Review at or above this probability, as its target chose it
    /// (`None`: no target, or it cannot be met; the policy's value stays).
    pub review: Option<f64>,
    /// Reject at or above this probability, as its target chose it or
    /// raised to a new review threshold above the policy's reject (`None`:
    /// neither; the policy's value stays).
    pub reject: Option<f64>,
    /// Out-of-fold comments they were chosen on.
    pub comments: u64,
}

/// What training did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Per source: rows read, kept, held out, dropped.
    pub sources: Vec<SourceReport>,
    /// Training comments used.
    pub train_examples: usize,
    /// Per head.
    pub heads: Vec<HeadReport>,
    /// Thresholds chosen for the configured targets.
    pub thresholds: Option<ChosenThresholds>,
}

/// Trains a model on the training part of `data`.
///
/// # Errors
///
/// [`Error::NoData`] if a head has no training comments for one of its
/// labels, [`Error::InvalidSetting`] for invalid settings.
pub fn train(
    config: &TrainingConfig,
    data: &Dataset,
    options: &TrainOptions<'_>,
) -> Result<(Model, TrainReport)> {
    config.validate().map_err(Error::InvalidSetting)?;
    // A dataset read with other heads (or with unlabelled heads left out)
    // would pair a head's settings with another head's labels.
    let same_heads = config.heads.len() == data.heads.len()
        && config
            .heads
            .iter()
            .zip(&data.heads)
            .all(|(c, d)| c.name == d.name);
    if !same_heads {
        return Err(Error::InvalidSetting(
            "the data were read for other heads than the configuration's".into(),
        ));
    }
    for (hc, hl) in config.heads.iter().zip(&data.heads) {
        if hl.positive.is_some() && hc.tune_bias {
            return Err(Error::InvalidSetting(format!(
                "head {:?}: tune_bias is for heads with more than two labels",
                hc.name
            )));
        }
    }
    let pipeline = Pipeline::new(config.pipeline.clone()).map_err(Error::InvalidSetting)?;
    let n_features = pipeline.vectorizer().n_features();
    let train: Vec<_> = data
        .examples
        .iter()
        .filter(|e| e.part == Part::Train)
        .collect();
    if train.is_empty() {
        return Err(Error::NoData(
            "every comment is held out or filtered".into(),
        ));
    }
    let progress = |stage: &str, done: usize, total: usize| {
        if let Some(p) = options.progress {
            p(stage, done, total)
        }
    };

    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let vectors = vectorize_all(&pipeline, &texts, options.threads, &progress);

    let folds = config.calibration.folds.max(1);
    let fold_of = |hash: u64| ((hash >> 17) % folds as u64) as usize;
    let empty_heads = || -> Result<Vec<Head>> {
        config
            .heads
            .iter()
            .zip(&data.heads)
            .map(|(hc, hl)| {
                let mut head = Head::new(
                    &hc.name,
                    hl.labels.clone(),
                    hc.variant,
                    hc.alpha,
                    n_features,
                )?;
                head.set_shrink(hc.shrink)?;
                Ok(head)
            })
            .collect()
    };
    let mut balance = class_balance(config, data, &train);
    balance_heads(config, &train, &mut balance);
    let mut fold_heads: Vec<Vec<Head>> =
        (0..folds).map(|_| empty_heads()).collect::<Result<_>>()?;
    for (i, (e, x)) in train.iter().zip(vectors.iter()).enumerate() {
        for (h, head) in fold_heads[fold_of(e.hash)].iter_mut().enumerate() {
            for (c, share) in e.shares(h) {
                head.add(x, c, weight(e, h, c, share, &balance));
            }
        }
        if i % 4096 == 0 {
            progress("counting", i, train.len());
        }
    }
    let mut total = empty_heads()?;
    for fh in &fold_heads {
        for (t, h) in total.iter_mut().zip(fh) {
            t.merge(h, 1.0);
        }
    }
    let mut examples_per_label = Vec::new();
    for (hi, (h, hl)) in total.iter().zip(&data.heads).enumerate() {
        // The comments the head is trained on, fractional labels included:
        // a label carried only as a fraction still has weight to learn
        // from, so it is no reason to stop, and the counts report the
        // comments the weights were made from.
        let mut counts = vec![0u64; hl.labels.len()];
        for e in &train {
            for (c, _) in e.shares(hi) {
                counts[c] += 1;
            }
        }
        if let Some(missing) = counts.iter().position(|&n| n == 0) {
            return Err(Error::NoData(format!(
                "head {:?} has no training comments labelled {:?}",
                h.name, hl.labels[missing]
            )));
        }
        examples_per_label.push(counts);
    }

    // Refined heads: one fit per cross-fitting fold (for the out-of-fold
    // scores) and one on everything (for the model), in parallel.
    progress("disguising", 0, 1);
    let disguised = disguise_all(config, data, &pipeline, &train, &total, options.threads);
    let mut refined = refine_heads(
        config,
        data,
        &RefineInput {
            train: &train,
            vectors: &vectors,
            disguised: &disguised,
            balance: &balance,
            total: &total,
            fold_heads: &fold_heads,
            fold_of: &fold_of,
        },
        options.threads,
        &progress,
    );

    // Out-of-fold scores for calibration.
    let mut oof: Vec<Vec<(f64, usize, f64, usize)>> = vec![Vec::new(); total.len()];
    let mut oof_logits: Vec<Vec<f64>> = vec![Vec::new(); total.len()];
    if config.calibration.folds >= 2 {
        for (f, fold) in fold_heads.iter().enumerate() {
            progress("calibrating", f, folds);
            for (h, head) in total.iter().enumerate() {
                let positive = data.heads[h].positive;
                let w = match refined[h].as_mut() {
                    Some(fits) => std::mem::take(&mut fits[f]),
                    None => {
                        let mut without = head.clone();
                        without.merge(&fold[h], -1.0);
                        without.scoring_weights(positive)
                    }
                };
                let mut jll = vec![0.0; w.bias.len()];
                for (e, x) in train.iter().zip(vectors.iter()) {
                    // Calibration and the out-of-fold metrics compare a
                    // score with one true label: a comment whose labels
                    // are fractions of several has none, and is left out
                    // here although it is trained on.
                    let Some(c) = e.labels[h] else { continue };
                    if fold_of(e.hash) != f {
                        continue;
                    }
                    w.joint_log_likelihood(x, n_features, &mut jll);
                    let raw = if positive.is_some() { jll[0] } else { f64::NAN };
                    let weight = match config.heads[h].calibrate {
                        CalibrationWeights::Natural => e.weight,
                        CalibrationWeights::Balanced => {
                            e.weight * balance[e.source][h][usize::from(c)]
                        }
                    };
                    oof[h].push((raw, usize::from(c), f64::from(weight), e.source));
                    if positive.is_none() {
                        oof_logits[h].extend_from_slice(&jll);
                    }
                }
            }
        }
    }

    let calibrates = |source: usize| {
        config.calibration.sources.is_empty()
            || config
                .calibration
                .sources
                .contains(&config.sources[source].name)
    };
    let mut heads = Vec::with_capacity(total.len());
    let mut reports = Vec::with_capacity(total.len());
    for (h, head) in total.into_iter().enumerate() {
        let positive = data.heads[h].positive;
        let k = head.labels.len();
        let mut report = HeadReport {
            name: head.name.clone(),
            labels: head.labels.clone(),
            examples: examples_per_label[h].clone(),
            calibration: None,
            temperature: None,
            class_bias: None,
            oof_roc_auc: None,
            oof_macro_f1: None,
            refine: config.heads[h].refine,
        };
        if !oof[h].is_empty() {
            let weights: Vec<f64> = oof[h].iter().map(|o| o.2).collect();
            let truth: Vec<usize> = oof[h].iter().map(|o| o.1).collect();
            if let Some(p) = positive {
                let scores: Vec<f64> = oof[h].iter().map(|o| o.0).collect();
                let labels: Vec<bool> = truth.iter().map(|&c| c == p).collect();
                report.oof_roc_auc = metrics::roc_auc(&scores, &labels);
                let rows = calibration_rows(&oof[h], p, calibrates);
                let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                let (s, w) = (pick(&scores), pick(&weights));
                let l: Vec<bool> = rows.iter().map(|&i| labels[i]).collect();
                let method = config.heads[h]
                    .calibration
                    .unwrap_or(config.calibration.method);
                report.calibration = match method {
                    CalibrationMethod::Platt => Calibration::fit_platt(&s, &l, Some(&w)),
                    // Tilted by 1% of a Platt map, so that no two scores
                    // tie and the ranking stays that of the scores.
                    CalibrationMethod::Isotonic => Calibration::fit_isotonic(&s, &l, Some(&w), 200)
                        .map(|iso| match Calibration::fit_platt(&s, &l, Some(&w)) {
                            Some(platt) => iso.clone().tilted(&platt, 0.01).unwrap_or(iso),
                            None => iso,
                        }),
                };
            } else {
                let hc = &config.heads[h];
                let bias = if hc.tune_bias {
                    tune_class_bias(&oof_logits[h], k, &truth)
                } else {
                    vec![0.0; k]
                };
                let adjusted: Vec<f64> = oof_logits[h]
                    .chunks_exact(k)
                    .flat_map(|row| row.iter().zip(&bias).map(|(z, b)| z + b))
                    .collect();
                report.temperature = Temperature::fit(&adjusted, k, &truth, Some(&weights));
                let predicted: Vec<usize> = adjusted.chunks_exact(k).map(argmax).collect();
                report.oof_macro_f1 =
                    Some(metrics::ConfusionMatrix::new(&truth, &predicted, k).macro_f1());
                report.class_bias = bias.iter().any(|&b| b != 0.0).then_some(bias);
            }
        }
        heads.push(HeadState {
            head,
            bias: Vec::new(),
            positive,
            calibration: report.calibration.clone(),
            temperature: report.temperature,
            class_bias: report.class_bias.clone(),
        });
        reports.push(report);
    }

    let mut policy = match &config.policy {
        Some(p) => p.clone(),
        None => default_policy(&heads)?,
    };
    let mut chosen = None;
    if let Some(targets) = &config.thresholds {
        let rule = policy.main_rule().clone();
        let h = heads
            .iter()
            .position(|x| x.head.name == rule.head)
            .ok_or_else(|| Error::InvalidSetting(format!("no head {:?}", rule.head)))?;
        let state = &heads[h];
        let label = state.head.labels.iter().position(|l| *l == rule.label);
        if let (Some(p), Some(label)) = (state.positive, label) {
            // Out-of-fold probabilities of the rows the calibration map was
            // fitted on: a threshold is a calibrated probability, so it is
            // chosen where the calibration holds. (Calibration sources
            // without positive comments would leave no recall to meet.)
            let rows: Vec<&(f64, usize, f64, usize)> = calibration_rows(&oof[h], p, calibrates)
                .into_iter()
                .map(|i| &oof[h][i])
                .collect();
            let probs: Vec<f64> = rows
                .iter()
                .map(|o| {
                    let q = state
                        .calibration
                        .as_ref()
                        .map_or_else(|| calibration::sigmoid(o.0), |c| c.apply(o.0));
                    if label == p {
                        q
                    } else {
                        1.0 - q
                    }
                })
                .collect();
            let truth: Vec<bool> = rows.iter().map(|o| o.1 == label).collect();
            let review = targets
                .review_recall
                .and_then(|r| metrics::threshold_for_recall(&probs, &truth, r));
            // A threshold without a target, or whose target cannot be
            // met, keeps the policy's value: the other one is kept
            // consistent with the value in force, not only with a new one.
            let review_in_force = review.or(rule.review);
            let reject = targets
                .reject_precision
                .and_then(|q| metrics::threshold_for_precision(&probs, &truth, q))
                .map(|r| r.max(review_in_force.unwrap_or(0.0)))
                .or(match (review, rule.reject) {
                    (Some(new), Some(old)) if old < new => Some(new),
                    _ => None,
                });
            policy.set_thresholds(review, reject)?;
            chosen = Some(ChosenThresholds {
                review,
                reject,
                comments: rows.len() as u64,
            });
        }
    }
    let report = TrainReport {
        sources: data.reports.clone(),
        train_examples: train.len(),
        heads: reports,
        thresholds: chosen,
    };
    let metadata = serde_json::json!({
        "training": report,
    });
    let weights = heads
        .iter()
        .zip(refined)
        .map(|(h, fits)| match fits {
            // The last fit is the one on every training comment.
            Some(mut fits) => fits.pop().expect("a fit on everything"),
            None => h.head.scoring_weights(h.positive),
        })
        .collect();
    let table = Table::from_weights(&mut heads, weights)?;
    let model = Model {
        pipeline: config.pipeline.clone(),
        heads,
        policy,
        metadata,
        table,
    };
    model.check()?;
    progress("done", 1, 1);
    Ok((model, report))
}

/// The out-of-fold rows of a binary head, as indices into `oof` (score,
/// label, weight, source), that its calibration map is fitted on and its
/// thresholds are chosen on: those of the sources `calibrates` accepts
/// (the sources named in `[calibration]`, all by default), or every row
/// when those lack the `positive` label or the other one.
fn calibration_rows(
    oof: &[(f64, usize, f64, usize)],
    positive: usize,
    calibrates: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let chosen: Vec<usize> = (0..oof.len()).filter(|&i| calibrates(oof[i].3)).collect();
    let has = |want: bool| chosen.iter().any(|&i| (oof[i].1 == positive) == want);
    if has(true) && has(false) {
        chosen
    } else {
        (0..oof.len()).collect()
    }
}

/// The training weight of comment `e`'s `share` of label `c` of head `h`:
/// the comment's weight, times the share, times the label's factor in
/// `balance` (per source, head and label).
fn weight(e: &Example, h: usize, c: usize, share: f32, balance: &[Vec<Vec<f32>>]) -> f32 {
    e.weight * share * balance[e.source][h][c]
}

/// Per source, head and label: the factor that gives every label of a
/// head equal total weight within a source marked `balance` (1 elsewhere).
fn class_balance(
    config: &TrainingConfig,
    data: &Dataset,
    train: &[&Example],
) -> Vec<Vec<Vec<f32>>> {
    let mut totals: Vec<Vec<Vec<f64>>> = config
        .sources
        .iter()
        .map(|_| {
            data.heads
                .iter()
                .map(|h| vec![0.0; h.labels.len()])
                .collect()
        })
        .collect();
    for e in train {
        for (h, totals) in totals[e.source].iter_mut().enumerate() {
            for (c, share) in e.shares(h) {
                totals[c] += f64::from(e.weight * share);
            }
        }
    }
    totals
        .iter()
        .zip(&config.sources)
        .map(|(heads, source)| {
            heads
                .iter()
                .map(|t| {
                    if source.balance {
                        equalizing(t)
                    } else {
                        vec![1.0; t.len()]
                    }
                })
                .collect()
        })
        .collect()
}

/// For heads marked `balance`: multiplies `balance` by the factor that
/// gives every label of the head equal total (already weighted) training
/// weight over all sources.
fn balance_heads(config: &TrainingConfig, train: &[&Example], balance: &mut [Vec<Vec<f32>>]) {
    for (h, hc) in config.heads.iter().enumerate() {
        if !hc.balance {
            continue;
        }
        let k = balance.first().map_or(0, |s| s[h].len());
        let mut totals = vec![0.0f64; k];
        for e in train {
            for (c, share) in e.shares(h) {
                totals[c] += f64::from(weight(e, h, c, share, balance));
            }
        }
        let factors = equalizing(&totals);
        for source in balance.iter_mut() {
            for (f, g) in source[h].iter_mut().zip(&factors) {
                *f *= g;
            }
        }
    }
}

/// Per label, the factor that gives every label with some weight in
/// `totals` the same total: the mean total over those labels divided by
/// the label's own. 1 for a label without weight, and for every label
/// when fewer than two have weight (there is nothing to even out).
fn equalizing(totals: &[f64]) -> Vec<f32> {
    let present = totals.iter().filter(|&&t| t > 0.0).count();
    let sum: f64 = totals.iter().sum();
    totals
        .iter()
        .map(|&t| {
            if present > 1 && t > 0.0 {
                (sum / (present as f64 * t)) as f32
            } else {
                1.0
            }
        })
        .collect()
}

/// Per-class biases `b` that maximise the macro-F1 of `argmax(z + b)` over
/// the rows of `logits` (row-major, `k` per row) against `truth`, starting
/// from no bias.
///
/// Coordinate ascent, exact in each coordinate: with the other biases
/// fixed, row `i` is predicted as class `c` exactly when `b_c` exceeds
/// `max_{j≠c}(z_ij + b_j) - z_ic`, so sorting those thresholds and sweeping
/// `b_c` across them visits every distinct outcome, with the confusion
/// counts updated one row at a time. Each chosen `b_c` lies midway between
/// two neighbouring thresholds. Sweeps repeat until none improves the
/// score (at most 50 rounds); the result is centred to sum to 0, which
/// does not change any prediction. Rows with a non-finite logit or a class
/// `>= k` are ignored.
pub(crate) fn tune_class_bias(logits: &[f64], k: usize, truth: &[usize]) -> Vec<f64> {
    let mut bias = vec![0.0; k];
    if k < 2 || logits.len() != truth.len() * k {
        return bias;
    }
    let rows: Vec<(&[f64], usize)> = logits
        .chunks_exact(k)
        .zip(truth)
        .filter(|(row, &y)| y < k && row.iter().all(|z| z.is_finite()))
        .map(|(row, &y)| (row, y))
        .collect();
    if rows.is_empty() {
        return bias;
    }
    let mut truth_count = vec![0i64; k];
    for &(_, y) in &rows {
        truth_count[y] += 1;
    }
    let macro_f1 = |tp: &[i64], pred: &[i64]| -> f64 {
        let (mut sum, mut present) = (0.0, 0usize);
        for c in 0..k {
            let d = pred[c] + truth_count[c];
            if d > 0 {
                sum += 2.0 * tp[c] as f64 / d as f64;
                present += 1;
            }
        }
        if present == 0 {
            0.0
        } else {
            sum / present as f64
        }
    };
    let score_of = |bias: &[f64]| -> f64 {
        let (mut tp, mut pred) = (vec![0i64; k], vec![0i64; k]);
        let mut shifted = vec![0.0; k];
        for &(row, y) in &rows {
            for ((s, z), b) in shifted.iter_mut().zip(row).zip(bias) {
                *s = z + b;
            }
            let p = argmax(&shifted);
            pred[p] += 1;
            if p == y {
                tp[p] += 1;
            }
        }
        macro_f1(&tp, &pred)
    };
    let mut best = score_of(&bias);
    let mut thresholds: Vec<(f64, usize, usize)> = Vec::with_capacity(rows.len());
    for _round in 0..50 {
        let before = best;
        for c in 0..k {
            // Every row predicted as its best other class, then rows move
            // to c in order of their threshold.
            let (mut tp, mut pred) = (vec![0i64; k], vec![0i64; k]);
            thresholds.clear();
            for &(row, y) in &rows {
                let mut other = usize::MAX;
                for j in (0..k).filter(|&j| j != c) {
                    if other == usize::MAX || row[j] + bias[j] > row[other] + bias[other] {
                        other = j;
                    }
                }
                pred[other] += 1;
                if other == y {
                    tp[other] += 1;
                }
                thresholds.push((row[other] + bias[other] - row[c], other, y));
            }
            thresholds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let first = thresholds[0].0;
            let last = thresholds[thresholds.len() - 1].0;
            let margin = ((last - first) * 1e-3).max(1e-6);
            let (mut top, mut top_b) = (macro_f1(&tp, &pred), first - margin);
            let mut i = 0;
            while i < thresholds.len() {
                let t = thresholds[i].0;
                while i < thresholds.len() && thresholds[i].0 == t {
                    let (_, from, y) = thresholds[i];
                    pred[from] -= 1;
                    pred[c] += 1;
                    if y == from {
                        tp[from] -= 1;
                    }
                    if y == c {
                        tp[c] += 1;
                    }
                    i += 1;
                }
                let score = macro_f1(&tp, &pred);
                if score > top {
                    top = score;
                    top_b = match thresholds.get(i) {
                        Some(next) => 0.5 * (t + next.0),
                        None => t + margin,
                    };
                }
            }
            if top > best + 1e-12 {
                bias[c] = top_b;
                best = score_of(&bias);
            }
        }
        if best <= before + 1e-12 {
            break;
        }
    }
    let mean = bias.iter().sum::<f64>() / k as f64;
    for b in &mut bias {
        *b -= mean;
    }
    bias
}

/// Review at P ≥ 0.5 and reject at P ≥ 0.9 on the first binary head.
fn default_policy(heads: &[HeadState]) -> Result<Policy> {
    let main = heads
        .iter()
        .find(|h| h.positive.is_some())
        .or_else(|| heads.first())
        .ok_or_else(|| Error::InvalidSetting("a model needs at least one head".into()))?;
    let label = main.head.labels[main.positive.unwrap_or(0)].clone();
    Policy::new(vec![Rule {
        head: main.head.name.clone(),
        label,
        review: Some(0.5),
        reject: Some(0.9),
    }])
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// What the refinement of heads needs from training.
struct RefineInput<'a, 'e> {
    train: &'a [&'e Example],
    vectors: &'a SparseRows,
    /// Disguised copies of training comments: (index in `train`, vector).
    disguised: &'a [(usize, SparseVec)],
    balance: &'a [Vec<Vec<f32>>],
    total: &'a [Head],
    fold_heads: &'a [Vec<Head>],
    fold_of: &'a (dyn Fn(u64) -> usize + Sync),
}

/// For each head with a `refine` setting, its refined weights: one per
/// cross-fitting fold (fitted without that fold), then one fitted on every
/// training comment. The fits run on `threads` threads; each is seeded by
/// its fold, so the result does not depend on the threads.
fn refine_heads(
    config: &TrainingConfig,
    data: &Dataset,
    input: &RefineInput<'_, '_>,
    threads: usize,
    progress: &Progress<'_>,
) -> Vec<Option<Vec<HeadWeights>>> {
    let folds = if config.calibration.folds >= 2 {
        config.calibration.folds
    } else {
        0
    };
    // (head, fold), where fold == folds means "no fold left out".
    let jobs: Vec<(usize, usize)> = config
        .heads
        .iter()
        .enumerate()
        .filter(|(_, hc)| hc.refine.is_some())
        .flat_map(|(h, _)| (0..=folds).map(move |f| (h, f)))
        .collect();
    let fit = |&(h, f): &(usize, usize)| -> HeadWeights {
        let positive = data.heads[h].positive;
        let mut nb = input.total[h].clone();
        if f < folds {
            nb.merge(&input.fold_heads[f][h], -1.0);
        }
        let settings = config.heads[h].refine.expect("a refined head");
        let in_fit = |e: &Example| f == folds || (input.fold_of)(e.hash) != f;
        // Only a binary head trains on the disguised copies.
        let copies = positive.is_some() && settings.augment;
        let rows = refine_rows(input, h, copies, in_fit).into_iter();
        match positive {
            Some(p) => {
                let rows: Vec<refine::Row> = rows
                    .map(|(x, c, weight)| refine::Row {
                        x,
                        positive: c == p,
                        weight,
                    })
                    .collect();
                refine::refine(&nb.scoring_weights(positive), &rows, &settings, f as u64)
            }
            None => {
                let rows: Vec<refine::ClassRow> = rows
                    .map(|(x, class, weight)| refine::ClassRow { x, class, weight })
                    .collect();
                refine::refine_classes(
                    &nb.scoring_weights(None),
                    nb.n_features,
                    &rows,
                    &settings,
                    f as u64,
                )
            }
        }
    };
    // Most of a refined model's training: the bar moves with each fit.
    progress("refining", 0, jobs.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let fits = parallel_map(&jobs, threads, |job| {
        let w = fit(job);
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress("refining", d, jobs.len());
        w
    });
    let mut out: Vec<Option<Vec<HeadWeights>>> = vec![None; config.heads.len()];
    for (&(h, _), w) in jobs.iter().zip(fits) {
        out[h].get_or_insert_with(Vec::new).push(w);
    }
    out
}

/// The rows the refinement of head `h` fits on, as (features, label,
/// training weight): one per label of the head that a comment accepted by
/// `in_fit` carries, fractional labels at their share, and then the same
/// for the disguised copies when `copies` is set.
///
/// The refinement corrects the naive Bayes weights on the data they were
/// counted from, so it sees the same rows at the same weights, a binary
/// head's fractional labels included: a comment the counts saw but the fit
/// did not would keep its naive Bayes weight with nothing to correct it.
fn refine_rows<'a>(
    input: &RefineInput<'a, '_>,
    h: usize,
    copies: bool,
    in_fit: impl Fn(&Example) -> bool,
) -> Vec<(SparseRef<'a>, usize, f64)> {
    let copies = input
        .disguised
        .iter()
        .filter(|_| copies)
        .map(|(i, x)| (input.train[*i], x.view()));
    input
        .train
        .iter()
        .copied()
        .zip(input.vectors.iter())
        .chain(copies)
        .filter(|(e, _)| in_fit(e))
        .flat_map(|(e, x)| {
            e.shares(h)
                .map(move |(c, share)| (x, c, f64::from(weight(e, h, c, share, input.balance))))
        })
        .collect()
}

/// Disguised copies of the training comments (see [`Refine::augment`]),
/// when a refined head asks for them: the words are those the first such
/// head's naive Bayes weights push toward its positive label most, and the
/// family is chosen by the comment's hash, so the copies do not depend on
/// the threads. Each copy is (index in `train`, its features).
fn disguise_all(
    config: &TrainingConfig,
    data: &Dataset,
    pipeline: &Pipeline,
    train: &[&Example],
    total: &[Head],
    threads: usize,
) -> Vec<(usize, SparseVec)> {
    // Only binary heads use the copies: the first binary head that asks.
    let Some(h) = (0..config.heads.len()).find(|&h| {
        data.heads[h].positive.is_some() && config.heads[h].refine.is_some_and(|r| r.augment)
    }) else {
        return Vec::new();
    };
    let weights = total[h].scoring_weights(data.heads[h].positive).weights;
    let rows: Vec<usize> = (0..train.len())
        .filter(|&i| train[i].shares(h).next().is_some())
        .collect();
    let chunks: Vec<&[usize]> = rows.chunks(1024).collect();
    parallel_map(&chunks, threads, |chunk| {
        let mut scratch = Scratch::default();
        chunk
            .iter()
            .filter_map(|&i| {
                let e = train[i];
                let text = refine::disguise(pipeline, &e.text, &weights, e.hash >> 7)?;
                pipeline.vectorize_into(&text, &mut scratch, |_| {});
                Some((i, scratch.features.clone()))
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// Runs the pipeline over every text on `threads` threads, keeping order.
pub(crate) fn vectorize_all(
    pipeline: &Pipeline,
    texts: &[&str],
    threads: usize,
    progress: &Progress<'_>,
) -> SparseRows {
    let done = std::sync::atomic::AtomicUsize::new(0);
    // Parts of whole blocks, so that they join without a copy.
    let chunks: Vec<&[&str]> = texts.chunks(SparseRows::BLOCK).collect();
    let parts = parallel_map(&chunks, threads, |part| {
        let mut scratch = Scratch::default();
        let mut rows = SparseRows::default();
        for t in part.iter() {
            pipeline.vectorize_into(t, &mut scratch, |_| {});
            rows.push(scratch.features.view());
        }
        let d = done.fetch_add(part.len(), std::sync::atomic::Ordering::Relaxed);
        progress("features", d + part.len(), texts.len());
        rows
    });
    let mut all = SparseRows::default();
    parts.into_iter().for_each(|part| all.append(part));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::LoadOptions;
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
            fold_of: &|_| 0,
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
        let w = model.heads[1].head.class_weights();
        for x in w {
            assert!((x - w[0]).abs() < 1e-6 * w[0], "{w:?}");
        }
        // The binary head is not balanced.
        let b = model.heads[0].head.class_weights();
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
            with.heads[1].head.class_weights(),
            without.heads[1].head.class_weights(),
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
        let w = model.heads[0].head.class_weights();
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
            matches!(result, Err(Error::InvalidSetting(ref m)) if m.contains("other heads")),
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
            Err(Error::InvalidSetting(_))
        ));
    }
}
