//! Out-of-fold scores: each training comment scored by the heads counted
//! (or refined) without its fold, the rows that calibration and the
//! thresholds are fitted on.

use super::refined::RefineInput;
use super::{Reporter, Stage};
use crate::config::TrainingConfig;
use crate::data::Dataset;
use crate::model::naive_bayes::HeadWeights;
use crate::model::params::CalibrationWeights;

/// One comment's out-of-fold score for one head.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct OofRow {
    /// The log-odds of a binary head's positive label (NaN for a
    /// multi-class head, whose logits are in [`OutOfFold::logits`]).
    pub score: f64,
    /// The comment's label.
    pub label: usize,
    /// The comment's calibration weight.
    pub weight: f64,
    /// The comment's source.
    pub source: usize,
}

/// A head's out-of-fold scores.
#[derive(Debug, Clone, Default)]
pub(super) struct OutOfFold {
    /// One row per comment with a label of the head, fold after fold.
    pub rows: Vec<OofRow>,
    /// For a multi-class head, each row's logits, `labels` per row.
    pub logits: Vec<f64>,
}

/// Every head's out-of-fold scores; empty without cross-fitting. A refined
/// head's per-fold fits in `refined` are taken (the fit on everything, the
/// last, stays).
pub(super) fn scores(
    config: &TrainingConfig,
    data: &Dataset,
    input: &RefineInput<'_, '_>,
    n_features: usize,
    refined: &mut [Option<Vec<HeadWeights>>],
    progress: &Reporter<'_>,
) -> Vec<OutOfFold> {
    let mut oof = vec![OutOfFold::default(); input.total.len()];
    if !input.folds.cross_fit {
        return oof;
    }
    for (f, fold) in input.fold_heads.iter().enumerate() {
        progress.report(Stage::Calibrating, f, input.folds.n);
        for (h, head) in input.total.iter().enumerate() {
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
            for (e, x) in input.train.iter().zip(input.vectors.iter()) {
                // Calibration and the out-of-fold metrics compare a score
                // with one true label: a comment whose labels are
                // fractions of several has none, and is left out here
                // although it is trained on.
                let Some(c) = e.labels[h] else { continue };
                if input.folds.of(e.hash) != f {
                    continue;
                }
                w.joint_log_likelihood(x, n_features, &mut jll);
                let score = if positive.is_some() { jll[0] } else { f64::NAN };
                let weight = match config.heads[h].calibrate {
                    CalibrationWeights::Natural => e.weight,
                    CalibrationWeights::Balanced => {
                        e.weight * input.balance[e.source][h][usize::from(c)]
                    }
                };
                oof[h].rows.push(OofRow {
                    score,
                    label: usize::from(c),
                    weight: f64::from(weight),
                    source: e.source,
                });
                if positive.is_none() {
                    oof[h].logits.extend_from_slice(&jll);
                }
            }
        }
    }
    oof
}

/// The out-of-fold rows of a binary head, as indices into `oof`, that its calibration map is fitted on and its
/// thresholds are chosen on: those of the sources `calibrates` accepts
/// (the sources named in `[calibration]`, all by default), or every row
/// when those lack the `positive` label or the other one.
pub(super) fn calibration_rows(
    oof: &[OofRow],
    positive: usize,
    calibrates: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let chosen: Vec<usize> = (0..oof.len())
        .filter(|&i| calibrates(oof[i].source))
        .collect();
    let has = |want: bool| chosen.iter().any(|&i| (oof[i].label == positive) == want);
    if has(true) && has(false) {
        chosen
    } else {
        (0..oof.len()).collect()
    }
}

/// Whether the out-of-fold rows of `source` calibrate: those of the
/// sources named in `[calibration] sources`, every source by default.
pub(super) fn calibrates(config: &TrainingConfig) -> impl Fn(usize) -> bool + '_ {
    |source: usize| {
        config.calibration.sources.is_empty()
            || config
                .calibration
                .sources
                .contains(&config.sources[source].name)
    }
}
