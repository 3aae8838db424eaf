//! Probability calibration maps stored in a model file. Naive Bayes log-odds
//! rank comments well but are badly over-confident as probabilities, so a
//! model carries a [`Calibration`] (Platt scaling or isotonic regression)
//! for its binary incivility score and a [`Temperature`] for its
//! multi-class head. Both are fitted on held-out scores, serialized with the
//! model, checked with `validate` when the model is loaded, and applied at
//! scoring time without ever producing NaN.
//!
//! This module holds the [`Calibration`] enum, how it is applied and
//! checked, and the helpers its fits share; the fits themselves live in
//! `platt` (Platt scaling), `isotonic` (pool-adjacent-violators and the
//! tilted form) and `temperature` (the multi-class [`Temperature`]).

mod isotonic;
mod platt;
mod temperature;

use crate::error::SettingError;
use serde::{Deserialize, Serialize};

pub use temperature::Temperature;

use isotonic::{interpolate, validate_knots};

/// The logistic function, without overflow for any input; NaN stays NaN.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Pairs each score and label with its weight, keeping only samples with a
/// finite score and a finite positive weight. `None` when the lengths differ.
fn weighted_samples(
    scores: &[f64],
    labels: &[bool],
    weights: Option<&[f64]>,
) -> Option<Vec<(f64, bool, f64)>> {
    if scores.len() != labels.len() || weights.is_some_and(|w| w.len() != scores.len()) {
        return None;
    }
    let weight = |i: usize| weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0);
    Some(
        scores
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(i, (&s, &l))| (s, l, weight(i)))
            .filter(|&(s, _, w)| s.is_finite() && w.is_finite() && w > 0.0)
            .collect(),
    )
}

/// Total weight of the positive and of the negative samples.
fn class_weights(samples: &[(f64, bool, f64)]) -> (f64, f64) {
    samples.iter().fold(
        (0.0, 0.0),
        |(pos, neg), &(_, l, w)| {
            if l {
                (pos + w, neg)
            } else {
                (pos, neg + w)
            }
        },
    )
}

/// A monotone map from a raw score (a log-odds from naive Bayes, which is
/// badly over-confident) to a probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Calibration {
    /// p = 1 / (1 + exp(-(a * score + b)))
    Platt {
        /// Slope applied to the raw score.
        a: f64,
        /// Intercept added after the slope.
        b: f64,
    },
    /// Piecewise-linear interpolation through increasing (score, probability)
    /// knots, clamped outside; from pool-adjacent-violators.
    Isotonic {
        /// Knot scores, strictly increasing.
        scores: Vec<f64>,
        /// Probability at each knot, non-decreasing, in `[0, 1]`.
        probabilities: Vec<f64>,
    },
    /// An isotonic map whose flat steps are tilted by a small share of a
    /// Platt map: `p = (1 - share) * isotonic(score) + share * platt(score)`.
    /// The probability then rises with every score, so comments are ranked
    /// exactly as by their scores (an isotonic map alone ties every score of
    /// a step), while the calibration stays the isotonic map's to within
    /// `share`.
    Tilted {
        /// The isotonic map's knot scores, strictly increasing.
        scores: Vec<f64>,
        /// Its probability at each knot, non-decreasing, in `[0, 1]`.
        probabilities: Vec<f64>,
        /// Slope of the Platt map, positive.
        a: f64,
        /// Intercept of the Platt map.
        b: f64,
        /// The Platt map's share, in `(0, 1)`.
        share: f64,
    },
}

impl Calibration {
    /// Maps a raw score to a probability. Always returns a finite value in
    /// `[0, 1]` for any input, including `±inf`; a NaN score gives 0.5, and
    /// so do unusable parameters (non-finite Platt parameters, no isotonic
    /// knots, or a NaN knot probability). Numerically stable for `|score|`
    /// up to `f64::MAX`.
    pub fn apply(&self, score: f64) -> f64 {
        if score.is_nan() {
            return 0.5;
        }
        let p = match self {
            Calibration::Platt { a, b } => {
                if !a.is_finite() || !b.is_finite() {
                    return 0.5;
                }
                // `0 * inf` would be NaN; a zero slope ignores the score.
                let z = if *a == 0.0 { *b } else { a * score + b };
                sigmoid(z)
            }
            Calibration::Isotonic {
                scores,
                probabilities,
            } => interpolate(scores, probabilities, score),
            Calibration::Tilted {
                scores,
                probabilities,
                a,
                b,
                share,
            } => {
                let platt = Calibration::Platt { a: *a, b: *b }.apply(score);
                (1.0 - share) * interpolate(scores, probabilities, score) + share * platt
            }
        };
        if p.is_nan() {
            0.5
        } else {
            p.clamp(0.0, 1.0)
        }
    }

    /// Checks the stored parameters are usable: finite Platt parameters;
    /// isotonic knots present, equal in number, finite, strictly increasing in
    /// score, with probabilities in `[0, 1]` and non-decreasing. Returns a
    /// lowercase message on failure. Called when a model file is loaded.
    ///
    /// # Errors
    ///
    /// [`SettingError::Calibration`] saying what is unusable.
    pub fn validate(&self) -> Result<(), SettingError> {
        self.problem().map_err(SettingError::Calibration)
    }

    fn problem(&self) -> Result<(), String> {
        match self {
            Calibration::Tilted {
                scores,
                probabilities,
                a,
                b,
                share,
            } => {
                if !(a.is_finite() && *a > 0.0 && b.is_finite()) {
                    return Err(format!(
                        "tilted calibration has an unusable platt map ({a}, {b})"
                    ));
                }
                if !(*share > 0.0 && *share < 1.0) {
                    return Err(format!(
                        "tilted calibration share is not in (0, 1): {share}"
                    ));
                }
                validate_knots(scores, probabilities)
            }
            Calibration::Platt { a, b } => {
                if !a.is_finite() {
                    return Err(format!("platt calibration slope a is not finite: {a}"));
                }
                if !b.is_finite() {
                    return Err(format!("platt calibration intercept b is not finite: {b}"));
                }
                Ok(())
            }
            Calibration::Isotonic {
                scores,
                probabilities,
            } => validate_knots(scores, probabilities),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::XorShift;

    /// Scores and labels shared by the tests of every fit, small enough to
    /// check against sklearn.
    pub(super) const SCORES: [f64; 12] = [
        -2.0, -1.5, -1.0, -0.5, 0.0, 0.3, 0.8, 1.2, 2.0, 2.5, -0.2, 1.0,
    ];
    /// Labels of [`SCORES`].
    pub(super) const LABELS: [bool; 12] = [
        false, false, true, false, false, true, false, true, true, true, true, false,
    ];

    #[test]
    fn apply_is_always_finite_and_in_range() {
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            1e300,
            -1e300,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            1.0,
            -1.0,
        ];
        let mut calibrations = vec![
            Calibration::Platt { a: 2.0, b: 0.5 },
            Calibration::Platt { a: -3.0, b: 1.0 },
            Calibration::Platt { a: 0.0, b: -1.0 },
            Calibration::Platt { a: 1e10, b: 0.0 },
            Calibration::Platt {
                a: f64::NAN,
                b: 0.0,
            },
            Calibration::Platt {
                a: f64::INFINITY,
                b: 0.0,
            },
            Calibration::Isotonic {
                scores: vec![],
                probabilities: vec![],
            },
            Calibration::Isotonic {
                scores: vec![-1e308, 1e308],
                probabilities: vec![0.1, 0.9],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 1.0, 2.0],
                probabilities: vec![0.2, 0.4],
            },
            Calibration::Isotonic {
                scores: vec![3.0, 1.0, f64::NAN],
                probabilities: vec![0.9, f64::NAN, 2.0],
            },
        ];
        calibrations.extend(Calibration::fit_platt(&SCORES, &LABELS, None));
        calibrations.extend(Calibration::fit_isotonic(&SCORES, &LABELS, None, 4));
        let mut rng = XorShift(5);
        for c in &calibrations {
            let randoms: Vec<f64> = (0..200).map(|_| f64::from_bits(rng.next_u64())).collect();
            for &s in specials.iter().chain(&randoms) {
                let p = c.apply(s);
                assert!(
                    p.is_finite() && (0.0..=1.0).contains(&p),
                    "{c:?} at {s}: {p}"
                );
            }
            assert_eq!(c.apply(f64::NAN), 0.5);
        }
        let platt = Calibration::Platt { a: 1.0, b: 0.0 };
        assert_eq!(platt.apply(1e300), 1.0);
        assert_eq!(platt.apply(-1e300), 0.0);
        assert_eq!(platt.apply(0.0), 0.5);
    }

    #[test]
    fn validate_rejects_unusable_parameters() {
        let bad = [
            Calibration::Platt {
                a: f64::NAN,
                b: 0.0,
            },
            Calibration::Platt {
                a: 1.0,
                b: f64::INFINITY,
            },
            Calibration::Isotonic {
                scores: vec![],
                probabilities: vec![],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 1.0],
                probabilities: vec![0.5],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 0.0],
                probabilities: vec![0.2, 0.3],
            },
            Calibration::Isotonic {
                scores: vec![0.0, f64::INFINITY],
                probabilities: vec![0.2, 0.3],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 1.0],
                probabilities: vec![0.2, 1.5],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 1.0],
                probabilities: vec![f64::NAN, 0.5],
            },
            Calibration::Isotonic {
                scores: vec![0.0, 1.0],
                probabilities: vec![0.6, 0.5],
            },
        ];
        for c in &bad {
            let message = c.validate().expect_err("should be rejected").to_string();
            // Lowercase wording; only a formatted value (such as NaN) may not be.
            assert!(message.starts_with(char::is_lowercase), "{message}");
            assert!(!message.ends_with('.'));
        }
        assert!(Calibration::Platt { a: -1.0, b: 3.0 }.validate().is_ok());
        assert!(Calibration::Isotonic {
            scores: vec![0.0],
            probabilities: vec![1.0]
        }
        .validate()
        .is_ok());
    }
}
