//! The hyperparameters of a head and of its calibration, as a training
//! configuration ([`crate::TrainingConfig`]) gives them: which naive Bayes
//! variant, how much smoothing and shrinkage, which calibration map and
//! which weights it is fitted with, and the optional refinement.

use super::naive_bayes::Variant;
use super::refine::Refine;
use serde::Deserialize;

/// One head to train.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadConfig {
    /// The head's name, e.g. `incivility`.
    pub name: String,
    /// The labels in output order; by default the sorted labels seen in
    /// the data.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// For a binary head, the label whose probability is reported.
    #[serde(default)]
    pub positive: Option<String>,
    /// Naive Bayes variant.
    #[serde(default)]
    pub variant: Variant,
    /// Additive smoothing.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Binary heads: shrink each feature's log-odds toward zero by this
    /// many standard errors (0 = plain naive Bayes).
    #[serde(default)]
    pub shrink: f64,
    /// Which weights the calibration map is fitted with.
    #[serde(default)]
    pub calibrate: CalibrationWeights,
    /// Binary heads: the calibration map's form, if not
    /// `[calibration] method`.
    #[serde(default)]
    pub calibration: Option<CalibrationMethod>,
    /// Give every label of this head equal total weight in training
    /// (inverse class frequency over all sources, on top of any source
    /// `balance`).
    #[serde(default)]
    pub balance: bool,
    /// Multi-class heads: add per-class biases to the logits, chosen by
    /// coordinate ascent to maximise the out-of-fold macro-F1 (so it needs
    /// `calibration.folds` of at least 2). Counters naive Bayes' pull
    /// toward frequent classes; stored in the model with the head.
    #[serde(default)]
    pub tune_bias: bool,
    /// Refine the naive Bayes weights with a logistic (binary heads) or
    /// softmax (multi-class heads) regression that keeps them as its prior
    /// (NBSVM-style; see [`Refine`]). Off by default.
    #[serde(default)]
    pub refine: Option<Refine>,
}

/// The comment weights a head's calibration is fitted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationWeights {
    /// The source weights: probabilities match the mix of the training
    /// data, so a label that is rare there gets small probabilities.
    #[default]
    Natural,
    /// The source weights with `balance` applied: probabilities as if each
    /// balanced source had as many positive comments as negative ones.
    /// For rare labels (threats) this gives probabilities that separate
    /// "looks like one" from "does not" at 0.5.
    Balanced,
}

fn default_alpha() -> f64 {
    1.0
}

/// Calibration settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationConfig {
    /// Cross-fitting folds for out-of-fold scores (at least 2; 0 disables
    /// calibration).
    pub folds: usize,
    /// `platt` or `isotonic` for binary heads.
    pub method: CalibrationMethod,
    /// Fit binary heads' calibration on the out-of-fold scores of these
    /// sources only (all sources if empty): the comments whose mix of
    /// labels the probabilities should match.
    pub sources: Vec<String>,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            folds: 5,
            method: CalibrationMethod::Platt,
            sources: Vec::new(),
        }
    }
}

/// How binary heads are calibrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    /// A logistic map of the log-odds (monotone, keeps the ranking exactly).
    Platt,
    /// Pool-adjacent-violators (monotone, piecewise linear), tilted by 1%
    /// of a Platt map so that it keeps the ranking too
    /// ([`crate::Calibration::Tilted`]).
    Isotonic,
}
