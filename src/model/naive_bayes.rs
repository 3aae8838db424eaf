//! Naive Bayes over sparse counts: one [`Head`] per question the model
//! answers ("is it uncivil?", "what tone?").
//!
//! While training, a head keeps its raw, weighted counts — per class, how
//! much of each feature it has seen and how many comments — so a fold of
//! data can be subtracted for cross-fitting without retraining from
//! scratch. When training ends the log-probabilities are derived from the
//! counts once, laid out in the model's weight table (and possibly refined,
//! see `refine`), and the counts are dropped: a model file holds the
//! weights it scores with.
//!
//! Two variants share the counts:
//!
//! * **multinomial**: `log P(c) + Σ x_f log θ_cf`, with
//!   `θ_cf = (N_cf + α) / (N_c + α·V)`;
//! * **complement** (Rennie et al. 2003): `-Σ x_f log θ̃_cf`, where `θ̃` is
//!   estimated from the counts of every class *except* `c`, which is steadier
//!   when classes are unbalanced. Like scikit-learn's `ComplementNB`, it uses
//!   no class prior.
//!
//! linfa-bayes is the reference for the multinomial arithmetic (see the
//! tests), but it takes only dense `ndarray` input and prints a `dbg!` of
//! every class on each fit, so it cannot be the engine for hashed text
//! features with 2^18 columns. With the `linfa` feature, [`NaiveBayesParams`]
//! implements linfa's `Fit` and `NaiveBayesModel` its `Predict` over dense
//! data, for callers who use linfa's datasets (`src/model/linfa.rs`).

use super::head::HeadSpec;
use crate::error::{Result, SettingError};
use crate::features::SparseRef;
use serde::{Deserialize, Serialize};

/// Which naive Bayes variant a head uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Multinomial naive Bayes with class priors.
    #[default]
    Multinomial,
    /// Complement naive Bayes without class priors.
    Complement,
}

/// One head while it is trained: what it is ([`HeadSpec`]: name, labels,
/// naive Bayes settings, and the weighted number of comments per label,
/// kept current as comments are added) and its weighted feature counts.
/// The trained model keeps the description and the weights derived from
/// the counts, not the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub(crate) spec: HeadSpec,
    /// Weighted feature counts, class-major: `[class * n_features + f]`.
    pub(crate) counts: Vec<f32>,
}

/// Scoring weights derived from a head's counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct HeadWeights {
    /// Per class, the constant term (log prior, or 0 for complement).
    pub bias: Vec<f64>,
    /// Per class, the weight of each feature: `[class * n_features + f]`.
    pub weights: Vec<f64>,
}

impl Head {
    /// An empty head.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) if there are fewer than two labels, a label
    /// repeats, or `alpha` is not a positive finite number.
    pub fn new(
        name: impl Into<String>,
        labels: Vec<String>,
        variant: Variant,
        alpha: f64,
        n_features: usize,
    ) -> Result<Self> {
        let k = labels.len();
        Head::counting(HeadSpec {
            name: name.into(),
            labels,
            variant,
            alpha,
            shrink: 0.0,
            n_features,
            class_weights: vec![0.0; k],
            positive: None,
            calibration: None,
            temperature: None,
            class_bias: None,
            bias: Vec::new(),
        })
    }

    /// A head that counts from zero, described by `spec` (whose class
    /// weights it starts from).
    pub(crate) fn counting(spec: HeadSpec) -> Result<Self> {
        Head::check_settings(&spec.name, &spec.labels, spec.alpha, spec.shrink)?;
        let counts = vec![0.0; spec.labels.len() * spec.n_features];
        Ok(Head { spec, counts })
    }

    /// What the head is: its name, labels, settings and the weighted
    /// number of comments per label counted so far.
    pub fn spec(&self) -> &HeadSpec {
        &self.spec
    }

    /// Checks a head's labels (at least two, none twice), smoothing and
    /// shrinkage.
    pub(crate) fn check_settings(
        name: &str,
        labels: &[String],
        alpha: f64,
        shrink: f64,
    ) -> Result<()> {
        if labels.len() < 2 {
            return Err(SettingError::TooFewLabels {
                head: name.into(),
                found: labels.len(),
            }
            .into());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(l) = labels.iter().find(|l| !seen.insert(l.as_str())) {
            return Err(SettingError::DuplicateLabel {
                head: name.into(),
                label: l.clone(),
            }
            .into());
        }
        check_alpha(alpha)?;
        check_shrink(shrink)
    }

    /// Sets the shrinkage of a binary head's per-feature log-odds toward
    /// zero, in standard errors of the log-odds: a feature seen rarely must
    /// show a stronger imbalance between the labels before it counts. This
    /// keeps rare words of one corpus from deciding comments from another.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) if `k` is negative or not finite.
    pub fn set_shrink(&mut self, k: f64) -> Result<()> {
        check_shrink(k)?;
        self.spec.shrink = k;
        Ok(())
    }

    /// Adds one comment of class `class` with the given weight.
    ///
    /// # Panics
    ///
    /// If `class` is not a label index or a feature index is outside the
    /// head's feature space; both are programming errors.
    pub fn add<'a>(&mut self, x: impl Into<SparseRef<'a>>, class: usize, weight: f32) {
        let x = x.into();
        let row =
            &mut self.counts[class * self.spec.n_features..(class + 1) * self.spec.n_features];
        for (f, v) in x.iter() {
            row[f as usize] += v * weight;
        }
        self.spec.class_weights[class] += f64::from(weight);
    }

    /// Adds (`sign = 1`) or subtracts (`sign = -1`) another head's counts.
    /// Used to build "everything but this fold" models for cross-fitting.
    #[cfg_attr(not(feature = "train"), allow(dead_code))]
    pub(crate) fn merge(&mut self, other: &Head, sign: f32) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = (*a + sign * b).max(0.0);
        }
        for (a, b) in self
            .spec
            .class_weights
            .iter_mut()
            .zip(&other.spec.class_weights)
        {
            *a = (*a + f64::from(sign) * b).max(0.0);
        }
    }

    /// Derives the scoring weights from the counts.
    pub(crate) fn weights(&self) -> HeadWeights {
        let k = self.spec.labels.len();
        let v = self.spec.n_features;
        let alpha = self.spec.alpha;
        let totals: Vec<f64> = (0..k)
            .map(|c| {
                self.counts[c * v..(c + 1) * v]
                    .iter()
                    .map(|&x| f64::from(x))
                    .sum()
            })
            .collect();
        let mut weights = vec![0.0f64; k * v];
        let bias;
        match self.spec.variant {
            Variant::Multinomial => {
                let n: f64 = self.spec.class_weights.iter().sum();
                bias = self
                    .spec
                    .class_weights
                    .iter()
                    .map(|&w| {
                        if n > 0.0 && w > 0.0 {
                            (w / n).ln()
                        } else {
                            (1.0 / k as f64).ln()
                        }
                    })
                    .collect();
                for c in 0..k {
                    let denom = (totals[c] + alpha * v as f64).ln();
                    let row = &self.counts[c * v..(c + 1) * v];
                    for (w, &x) in weights[c * v..(c + 1) * v].iter_mut().zip(row) {
                        *w = (f64::from(x) + alpha).ln() - denom;
                    }
                }
            }
            Variant::Complement => {
                bias = vec![0.0; k];
                let grand: f64 = totals.iter().sum();
                let mut all = vec![0.0f64; v];
                for c in 0..k {
                    for (a, &x) in all.iter_mut().zip(&self.counts[c * v..(c + 1) * v]) {
                        *a += f64::from(x);
                    }
                }
                for c in 0..k {
                    let denom = (grand - totals[c] + alpha * v as f64).ln();
                    let row = &self.counts[c * v..(c + 1) * v];
                    for ((w, &a), &x) in weights[c * v..(c + 1) * v].iter_mut().zip(&all).zip(row) {
                        *w = -((a - f64::from(x) + alpha).ln() - denom);
                    }
                }
            }
        }
        HeadWeights { bias, weights }
    }
}

impl Head {
    /// The weights used for scoring. A binary head (`positive` given) is
    /// reduced to one column: the log-odds of the positive label, with the
    /// head's shrinkage applied; a multi-class head keeps one column per
    /// label.
    pub(crate) fn scoring_weights(&self, positive: Option<usize>) -> HeadWeights {
        let w = self.weights();
        let Some(p) = positive.filter(|_| self.spec.labels.len() == 2) else {
            return w;
        };
        let n = 1 - p;
        let v = self.spec.n_features;
        let k = self.spec.shrink;
        let weights = (0..v)
            .map(|f| {
                let llr = w.weights[p * v + f] - w.weights[n * v + f];
                if k == 0.0 {
                    return llr;
                }
                let np = f64::from(self.counts[p * v + f]) + self.spec.alpha;
                let nn = f64::from(self.counts[n * v + f]) + self.spec.alpha;
                let se = (1.0 / np + 1.0 / nn).sqrt();
                llr.signum() * (llr.abs() - k * se).max(0.0)
            })
            .collect();
        HeadWeights {
            bias: vec![w.bias[p] - w.bias[n]],
            weights,
        }
    }
}

fn check_shrink(k: f64) -> Result<()> {
    if k.is_finite() && k >= 0.0 {
        Ok(())
    } else {
        Err(SettingError::range("shrink", "a non-negative number", k).into())
    }
}

fn check_alpha(alpha: f64) -> Result<()> {
    if alpha.is_finite() && alpha > 0.0 {
        Ok(())
    } else {
        Err(SettingError::range("smoothing alpha", "a positive finite number", alpha).into())
    }
}

impl HeadWeights {
    /// Joint log-likelihood of each class for a sparse vector.
    #[cfg_attr(not(any(feature = "train", feature = "linfa")), allow(dead_code))]
    pub fn joint_log_likelihood<'a>(
        &self,
        x: impl Into<SparseRef<'a>>,
        n_features: usize,
        out: &mut [f64],
    ) {
        let x = x.into();
        for (c, o) in out.iter_mut().enumerate() {
            let row = &self.weights[c * n_features..(c + 1) * n_features];
            *o = self.bias[c]
                + x.iter()
                    .map(|(f, v)| f64::from(v) * row[f as usize])
                    .sum::<f64>();
        }
    }
}

/// Hyperparameters of a naive Bayes classifier, unchecked.
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `alpha` | 1.0 | additive (Laplace/Lidstone) smoothing | > 0, finite |
/// | `variant` | multinomial | multinomial or complement | |
///
/// # Examples
///
/// With the `linfa` feature:
///
#[cfg_attr(feature = "linfa", doc = "```")]
#[cfg_attr(not(feature = "linfa"), doc = "```ignore")]
/// use civility::{NaiveBayesParams, Variant};
/// use linfa::prelude::*;
/// use ndarray::array;
///
/// let x = array![[3., 0.], [2., 1.], [0., 4.], [1., 3.]];
/// let y = array![0usize, 0, 1, 1];
/// let model = NaiveBayesParams::new().alpha(0.5).fit(&Dataset::new(x.clone(), y))?;
/// assert_eq!(model.predict(&x), array![0, 0, 1, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NaiveBayesParams {
    pub(super) alpha: f64,
    pub(super) variant: Variant,
}

impl Default for NaiveBayesParams {
    fn default() -> Self {
        NaiveBayesParams {
            alpha: 1.0,
            variant: Variant::Multinomial,
        }
    }
}

impl NaiveBayesParams {
    /// Default hyperparameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the smoothing.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets the variant.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variant = variant;
        self
    }

    /// Checks the values.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) if `alpha` is not positive and finite.
    pub fn check(self) -> Result<NaiveBayesValidParams> {
        check_alpha(self.alpha)?;
        Ok(NaiveBayesValidParams(self))
    }
}

/// Checked hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NaiveBayesValidParams(pub(super) NaiveBayesParams);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::SparseVec;

    #[test]
    fn a_loaded_head_counts_from_zero() {
        let model = crate::Model::embedded().unwrap();
        let mut head = model.heads().next().unwrap().counting_head().unwrap();
        let x = SparseVec {
            indices: vec![1, 5],
            values: vec![1.0, 0.5],
        };
        head.add(&x, 1, 2.0);
        assert_eq!(
            head.spec().class_weights()[1] - model.heads().next().unwrap().class_weights()[1],
            2.0
        );
    }
    #[test]
    fn merge_subtracts_a_fold() {
        let mut a = Head::new(
            "h",
            vec!["x".into(), "y".into()],
            Variant::Multinomial,
            1.0,
            4,
        )
        .unwrap();
        let mut b = a.clone();
        let v = SparseVec {
            indices: vec![1, 3],
            values: vec![2.0, 1.0],
        };
        a.add(&v, 0, 1.0);
        a.add(&v, 1, 1.0);
        b.add(&v, 1, 1.0);
        a.merge(&b, -1.0);
        assert_eq!(a.spec.class_weights, [1.0, 0.0]);
        assert_eq!(&a.counts[4..], &[0.0; 4]);
    }

    #[test]
    fn autotraits() {
        fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
        has_autotraits::<Head>();
        has_autotraits::<NaiveBayesParams>();
    }
}
