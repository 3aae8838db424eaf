//! Training a [`Model`] from labelled comments.
//!
//! [`train`] runs these steps, one function each:
//!
//! 1. **check** the configuration against the data it was read with;
//! 2. **features**: every training comment through the pipeline once, in
//!    parallel ([`Stage::Features`]);
//! 3. **balance**: each comment's training weight per head and label
//!    (`balance.rs`);
//! 4. **count** per head, separately for each of `folds` cross-fitting
//!    folds; the model's counts are their sum ([`Stage::Counting`],
//!    `counts.rs`);
//! 5. **refine** the heads that ask for it, on disguised copies too
//!    ([`Stage::Disguising`], [`Stage::Refining`], `refined.rs`);
//! 6. **score out of fold**: because naive Bayes counts add up, "the model
//!    without fold k" is the total minus fold k, so each comment is scored
//!    by a model that did not see it ([`Stage::Calibrating`], `oof.rs`);
//! 7. **calibrate** each head on those scores — probabilities that hold on
//!    unseen comments, not the over-confident ones naive Bayes gives its
//!    own training data — and tune multi-class biases (`calibrate.rs`,
//!    `bias.rs`);
//! 8. **choose thresholds** for the policy's targets (`thresholds.rs`);
//! 9. **assemble** the model: the weight table from the counts or the
//!    refined weights.
//!
//! Training is deterministic: the same configuration and data give the
//! same model file, byte for byte, whatever the number of threads.
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

mod balance;
mod bias;
mod calibrate;
mod counts;
mod oof;
mod refined;
mod thresholds;

use counts::vectorize_all;

use super::calibration::{Calibration, Temperature};
use super::refine::Refine;
use super::table::Table;
use super::Model;
use crate::config::TrainingConfig;
use crate::data::{Dataset, Example, Part, SourceReport};
use crate::error::{Error, Result, SettingError};
use crate::pipeline::Pipeline;
use serde::Serialize;
use std::collections::BTreeMap;

/// A step of training, as progress reports name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Running the training comments through the pipeline.
    Features,
    /// Counting features per head and fold.
    Counting,
    /// Making disguised copies of comments for refinement.
    Disguising,
    /// Refining heads' weights: one fit per fold and one on everything.
    Refining,
    /// Scoring each fold out of fold, for calibration.
    Calibrating,
    /// Finished.
    Done,
}

impl Stage {
    /// A short lower-case name for a progress display.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Features => "features",
            Stage::Counting => "counting",
            Stage::Disguising => "disguising",
            Stage::Refining => "refining",
            Stage::Calibrating => "calibrating",
            Stage::Done => "done",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A progress callback: (stage, done, total).
pub type Progress<'a> = dyn Fn(Stage, usize, usize) + Sync + 'a;

/// How training runs.
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Worker threads for feature extraction and the refinement fits
    /// (0 = all cores).
    pub threads: usize,
    /// Called with (stage, done, total) as training progresses.
    pub progress: Option<&'a Progress<'a>>,
}

/// What training did for one head.
#[derive(Debug, Clone, Serialize)]
pub struct HeadTraining {
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
    /// With `allow_no_evidence`: the probability of a comment without
    /// evidence, when the review threshold was raised above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_evidence: Option<f64>,
}

/// What training did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Per source: rows read, kept, held out, dropped.
    pub sources: Vec<SourceReport>,
    /// Training comments used.
    pub train_examples: usize,
    /// Per head.
    pub heads: Vec<HeadTraining>,
    /// Thresholds chosen for the configured targets of the main rule.
    pub thresholds: Option<ChosenThresholds>,
    /// Thresholds chosen for `[thresholds.heads]`, by head.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub head_thresholds: BTreeMap<String, ChosenThresholds>,
}

/// The cross-fitting folds: a comment's fold is chosen by its hash.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Folds {
    /// Number of folds (at least 1).
    pub n: usize,
    /// Out-of-fold scores are made (`calibration.folds` is at least 2).
    pub cross_fit: bool,
}

impl Folds {
    fn new(config: &TrainingConfig) -> Folds {
        Folds {
            n: config.calibration.folds.max(1),
            cross_fit: config.calibration.folds >= 2,
        }
    }

    /// The fold of the comment with this hash.
    pub fn of(self, hash: u64) -> usize {
        ((hash >> 17) % self.n as u64) as usize
    }
}

/// Calls the caller's progress callback, if any.
#[derive(Clone, Copy)]
pub(crate) struct Reporter<'a>(Option<&'a Progress<'a>>);

impl Reporter<'_> {
    pub fn report(&self, stage: Stage, done: usize, total: usize) {
        if let Some(p) = self.0 {
            p(stage, done, total)
        }
    }
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
    check(config, data)?;
    let pipeline = Pipeline::new(config.pipeline.clone()).map_err(Error::InvalidSetting)?;
    let train = training_comments(data)?;
    let progress = Reporter(options.progress);
    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
    let vectors = vectorize_all(&pipeline, &texts, options.threads, &progress);

    let folds = Folds::new(config);
    let balance = balance::weights(config, data, &train);
    let n_features = pipeline.vectorizer().n_features();
    let counts = counts::count(
        config, data, &train, &vectors, &balance, folds, n_features, &progress,
    )?;
    let examples = counts::examples_per_label(data, &train, &counts.total)?;

    progress.report(Stage::Disguising, 0, 1);
    let disguised = refined::disguise_all(
        config,
        data,
        &pipeline,
        &train,
        &counts.total,
        options.threads,
    );
    let input = refined::RefineInput {
        train: &train,
        vectors: &vectors,
        disguised: &disguised,
        balance: &balance,
        total: &counts.total,
        fold_heads: &counts.folds,
        folds,
    };
    let mut refined = refined::refine_heads(config, data, &input, options.threads, &progress);

    let oof = oof::scores(config, data, &input, n_features, &mut refined, &progress);
    let (mut specs, heads) = calibrate::heads(config, data, &counts.total, examples, &oof);
    let weights = specs
        .iter()
        .zip(&counts.total)
        .zip(refined)
        .map(|((spec, head), fits)| match fits {
            // The last fit is the one on every training comment.
            Some(mut fits) => fits.pop().expect("a fit on everything"),
            None => head.scoring_weights(spec.positive()),
        })
        .collect();
    // The table sets each head's constant terms, which the policy's
    // no-evidence threshold is computed from.
    let table = Table::from_weights(&mut specs, weights)?;
    let (policy, chosen) = thresholds::policy(config, &specs, &oof)?;
    let report = TrainReport {
        sources: data.reports.clone(),
        train_examples: train.len(),
        heads,
        thresholds: chosen.main,
        head_thresholds: chosen.heads,
    };
    let model = Model {
        pipeline: config.pipeline.clone(),
        heads: specs,
        policy,
        metadata: serde_json::json!({ "training": report }),
        table,
    };
    model.check()?;
    progress.report(Stage::Done, 1, 1);
    Ok((model, report))
}

/// Checks the configuration, and that the data were read for its heads.
fn check(config: &TrainingConfig, data: &Dataset) -> Result<()> {
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
        return Err(SettingError::Mismatch(
            "the data were read for other heads than the configuration's".into(),
        )
        .into());
    }
    for (hc, hl) in config.heads.iter().zip(&data.heads) {
        if hl.positive.is_some() && hc.tune_bias {
            return Err(SettingError::head(
                &hc.name,
                "tune_bias is for heads with more than two labels",
            )
            .into());
        }
    }
    Ok(())
}

/// The comments of the training part.
fn training_comments(data: &Dataset) -> Result<Vec<&Example>> {
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
    Ok(train)
}

#[cfg(test)]
mod tests;
