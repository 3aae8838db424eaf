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
//! use civility::data::{Dataset, LoadOptions, TrainingConfig};
//! use civility::train::{train, TrainOptions};
//!
//! let config = TrainingConfig::from_path("models/default.toml")?;
//! let data = Dataset::load(&config, &LoadOptions::default())?;
//! let (model, report) = train(&config, &data, &TrainOptions::default())?;
//! model.save("my-model.civ")?;
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::calibration::{Calibration, Temperature};
use super::naive_bayes::Head;
use super::{HeadState, Model};
use crate::data::{
    CalibrationMethod, CalibrationWeights, Dataset, Part, SourceReport, TrainingConfig,
};
use crate::error::{Error, Result};
use crate::features::SparseVec;
use crate::metrics;
use crate::pipeline::{Pipeline, Scratch};
use crate::policy::{Policy, Rule};
use serde::Serialize;

/// A progress callback: (stage, done, total).
pub type Progress<'a> = dyn Fn(&str, usize, usize) + Sync + 'a;

/// How training runs.
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Worker threads for feature extraction (0 = all cores).
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
    /// Training comments per label.
    pub examples: Vec<u64>,
    /// The calibration fitted on out-of-fold scores.
    pub calibration: Option<Calibration>,
    /// The temperature fitted on out-of-fold scores.
    pub temperature: Option<Temperature>,
    /// Out-of-fold ROC AUC (binary heads).
    pub oof_roc_auc: Option<f64>,
    /// Out-of-fold macro-F1 (multi-class heads).
    pub oof_macro_f1: Option<f64>,
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
    let balance = class_balance(config, data, &train);
    let mut fold_heads: Vec<Vec<Head>> =
        (0..folds).map(|_| empty_heads()).collect::<Result<_>>()?;
    for (i, (e, x)) in train.iter().zip(&vectors).enumerate() {
        let f = fold_of(e.hash);
        for (h, label) in e.labels.iter().enumerate() {
            if let Some(c) = label {
                let c = usize::from(*c);
                fold_heads[f][h].add(x, c, e.weight * balance[e.source][h][c]);
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
        let mut counts = vec![0u64; hl.labels.len()];
        for c in train.iter().filter_map(|e| e.labels[hi]) {
            counts[usize::from(c)] += 1;
        }
        if let Some(missing) = counts.iter().position(|&n| n == 0) {
            return Err(Error::NoData(format!(
                "head {:?} has no training comments labelled {:?}",
                h.name, hl.labels[missing]
            )));
        }
        examples_per_label.push(counts);
    }

    // Out-of-fold scores for calibration.
    let mut oof: Vec<Vec<(f64, usize, f64)>> = vec![Vec::new(); total.len()];
    let mut oof_logits: Vec<Vec<f64>> = vec![Vec::new(); total.len()];
    if config.calibration.folds >= 2 {
        for (f, fold) in fold_heads.iter().enumerate() {
            progress("calibrating", f, folds);
            for (h, head) in total.iter().enumerate() {
                let mut without = head.clone();
                without.merge(&fold[h], -1.0);
                let positive = data.heads[h].positive;
                let w = without.scoring_weights(positive);
                let mut jll = vec![0.0; w.bias.len()];
                for (e, x) in train.iter().zip(&vectors) {
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
                    oof[h].push((raw, usize::from(c), f64::from(weight)));
                    if positive.is_none() {
                        oof_logits[h].extend_from_slice(&jll);
                    }
                }
            }
        }
    }

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
            oof_roc_auc: None,
            oof_macro_f1: None,
        };
        if !oof[h].is_empty() {
            let weights: Vec<f64> = oof[h].iter().map(|o| o.2).collect();
            let truth: Vec<usize> = oof[h].iter().map(|o| o.1).collect();
            if let Some(p) = positive {
                let scores: Vec<f64> = oof[h].iter().map(|o| o.0).collect();
                let labels: Vec<bool> = truth.iter().map(|&c| c == p).collect();
                report.oof_roc_auc = metrics::roc_auc(&scores, &labels);
                report.calibration = match config.calibration.method {
                    CalibrationMethod::Platt => {
                        Calibration::fit_platt(&scores, &labels, Some(&weights))
                    }
                    CalibrationMethod::Isotonic => {
                        Calibration::fit_isotonic(&scores, &labels, Some(&weights), 200)
                    }
                };
            } else {
                report.temperature = Temperature::fit(&oof_logits[h], k, &truth, Some(&weights));
                let t = report.temperature.unwrap_or(Temperature { t: 1.0 });
                let mut probs = vec![0.0; k];
                let predicted: Vec<usize> = oof_logits[h]
                    .chunks_exact(k)
                    .map(|row| {
                        t.apply(row, &mut probs);
                        argmax(&probs)
                    })
                    .collect();
                report.oof_macro_f1 =
                    Some(metrics::ConfusionMatrix::new(&truth, &predicted, k).macro_f1());
            }
        }
        heads.push(HeadState {
            head,
            positive,
            calibration: report.calibration.clone(),
            temperature: report.temperature,
        });
        reports.push(report);
    }

    let policy = match &config.policy {
        Some(p) => p.clone(),
        None => default_policy(&heads)?,
    };
    let report = TrainReport {
        sources: data.reports.clone(),
        train_examples: train.len(),
        heads: reports,
    };
    let metadata = serde_json::json!({
        "training": report,
    });
    let model = Model {
        pipeline: config.pipeline.clone(),
        heads,
        policy,
        metadata,
    };
    model.check()?;
    progress("done", 1, 1);
    Ok((model, report))
}

/// Per source, head and label: the factor that gives every label of a
/// head equal total weight within a source marked `balance` (1 elsewhere).
fn class_balance(
    config: &TrainingConfig,
    data: &Dataset,
    train: &[&crate::data::Example],
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
        for (h, label) in e.labels.iter().enumerate() {
            if let Some(c) = label {
                totals[e.source][h][usize::from(*c)] += f64::from(e.weight);
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
                    let present = t.iter().filter(|&&x| x > 0.0).count();
                    let sum: f64 = t.iter().sum();
                    t.iter()
                        .map(|&x| {
                            if source.balance && present > 1 && x > 0.0 {
                                (sum / (present as f64 * x)) as f32
                            } else {
                                1.0
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
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

/// Runs the pipeline over every text on `threads` threads, keeping order.
pub(crate) fn vectorize_all(
    pipeline: &Pipeline,
    texts: &[&str],
    threads: usize,
    progress: &Progress<'_>,
) -> Vec<SparseVec> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let chunk = texts.len().div_ceil(threads.max(1)).max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<SparseVec> = Vec::with_capacity(texts.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    let mut vs = Vec::with_capacity(part.len());
                    for (i, t) in part.iter().enumerate() {
                        pipeline.vectorize_into(t, &mut scratch);
                        vs.push(scratch.features.clone());
                        if i % 2048 == 2047 {
                            let d = done.fetch_add(2048, std::sync::atomic::Ordering::Relaxed);
                            progress("features", d + 2048, texts.len());
                        }
                    }
                    vs
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(vs) => out.extend(vs),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    out
}
