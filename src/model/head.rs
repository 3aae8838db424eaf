//! One head as a model holds it: a [`HeadSpec`].
//!
//! A head is described once. A head being trained ([`Head`]) is a
//! `HeadSpec` and its counts; training completes the description with
//! what cross-fitting chose (calibration, temperature, class biases); the
//! model file stores the very same struct as JSON in its header; the
//! scorer reads it. A new setting of a head is one new field
//! here (and its frozen value in the readers of older formats,
//! `model/file/`), not a copy in each of those places.

use super::calibration::{Calibration, Temperature};
use super::naive_bayes::{Head, Variant};
use crate::error::{Result, SettingError};
use serde::{Deserialize, Serialize};

/// One head of a trained model: its labels, the naive Bayes settings it
/// was counted with, how its scores become probabilities, and the constant
/// terms of its columns in the model's weight table.
///
/// The field order is the order of the model file's JSON header: do not
/// reorder (the default model is rebuilt byte for byte).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSpec {
    pub(crate) name: String,
    pub(crate) labels: Vec<String>,
    pub(crate) variant: Variant,
    pub(crate) alpha: f64,
    /// Shrinkage of a binary head's per-feature log-odds, in standard
    /// errors. Missing only from files of format 1, whose reader supplies
    /// the value they were scored with.
    pub(crate) shrink: f64,
    pub(crate) n_features: usize,
    /// Weighted number of training comments per label.
    pub(crate) class_weights: Vec<f64>,
    /// For a binary head, the label whose probability is reported.
    pub(crate) positive: Option<String>,
    /// Calibration map of a binary head's log-odds.
    pub(crate) calibration: Option<Calibration>,
    /// Temperature of a multi-class head's softmax.
    pub(crate) temperature: Option<Temperature>,
    /// Per-class additive biases of a multi-class head's logits (before
    /// the temperature), tuned on out-of-fold scores; absent = all 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) class_bias: Option<Vec<f64>>,
    /// Constant terms of the head's table columns: the log-prior ratio of
    /// a binary head, else one log-prior per class. Format 1 files have
    /// none (their reader derives them from the stored counts).
    #[serde(default)]
    pub(crate) bias: Vec<f64>,
}

impl HeadSpec {
    /// The description of a trained head: its counted settings, with no
    /// calibration and no constant terms yet (the weight table sets them).
    #[cfg_attr(not(feature = "train"), allow(dead_code))]
    pub(crate) fn of(head: &Head, positive: Option<usize>) -> HeadSpec {
        HeadSpec {
            positive: positive.map(|p| head.spec.labels[p].clone()),
            ..head.spec.clone()
        }
    }

    /// An empty counting head with this head's settings and class
    /// weights, to add a format 1 file's stored counts to.
    pub(crate) fn counting_head(&self) -> Result<Head> {
        Head::counting(HeadSpec {
            positive: None,
            calibration: None,
            temperature: None,
            class_bias: None,
            bias: Vec::new(),
            ..self.clone()
        })
    }

    /// The head's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The class labels, in the order probabilities are reported.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The naive Bayes variant the head was counted with.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The additive smoothing the head was counted with.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The shrinkage of per-feature log-odds, in standard errors.
    pub fn shrink(&self) -> f64 {
        self.shrink
    }

    /// Weighted number of training comments per label.
    pub fn class_weights(&self) -> &[f64] {
        &self.class_weights
    }

    /// For a binary head, the label whose probability is reported.
    pub fn positive_label(&self) -> Option<&str> {
        self.positive.as_deref()
    }

    /// The calibration map of a binary head.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// The softmax temperature of a multi-class head.
    pub fn temperature(&self) -> Option<Temperature> {
        self.temperature
    }

    /// The index of the positive label of a binary head.
    pub(crate) fn positive(&self) -> Option<usize> {
        let p = self.positive.as_deref()?;
        self.labels.iter().position(|l| l == p)
    }

    /// Number of weight-table columns: one (the log-odds of the positive
    /// label) for a binary head, one per label otherwise.
    pub(crate) fn columns(&self) -> usize {
        if self.positive.is_some() {
            1
        } else {
            self.labels.len()
        }
    }

    /// The constant terms the scorer adds: `bias`, plus the tuned class
    /// biases of a multi-class head.
    pub(crate) fn scoring_bias(&self) -> Vec<f64> {
        let mut bias = self.bias.clone();
        if let Some(extra) = self.class_bias.as_ref().filter(|_| self.positive.is_none()) {
            for (b, e) in bias.iter_mut().zip(extra) {
                *b += e;
            }
        }
        bias
    }

    /// Checks the head on its own: labels, smoothing, shrinkage, class
    /// weights, the positive label, calibration, temperature and class
    /// biases. (That its constant terms fit the table is the model's
    /// check.)
    pub(crate) fn check(&self) -> Result<()> {
        let invalid = |what: &str| Err(SettingError::head(&self.name, what).into());
        Head::check_settings(&self.name, &self.labels, self.alpha, self.shrink)?;
        if self.class_weights.len() != self.labels.len()
            || self
                .class_weights
                .iter()
                .any(|w| !(w.is_finite() && *w >= 0.0))
        {
            return invalid("invalid class weights");
        }
        match (&self.positive, self.labels.len()) {
            (Some(p), 2) if self.positive().is_none() => {
                return invalid(&format!("has no label {p:?}"));
            }
            (Some(_), 2) | (None, 3..) => {}
            (Some(_), n) => {
                return invalid(&format!("names a positive label but has {n} labels, not 2"));
            }
            (None, _) => {
                return invalid("a positive label is required for two labels and only then")
            }
        }
        if let Some(c) = &self.calibration {
            c.validate().or_else(|e| invalid(&e.to_string()))?;
        }
        if let Some(t) = &self.temperature {
            if !(t.t.is_finite() && t.t > 0.0) {
                return invalid("an invalid temperature");
            }
        }
        if let Some(b) = &self.class_bias {
            if self.positive.is_some()
                || b.len() != self.labels.len()
                || b.iter().any(|x| !x.is_finite())
            {
                return invalid(
                    "class biases need a multi-class head and one finite value per label",
                );
            }
        }
        if self.bias.iter().any(|b| !b.is_finite()) {
            return Err(SettingError::NonFinite.into());
        }
        Ok(())
    }
}
