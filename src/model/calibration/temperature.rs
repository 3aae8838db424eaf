//! Temperature scaling of a multi-class head's logits: the one-parameter
//! softmax map, its fit by bisection, and its check on load.

use crate::error::SettingError;
use serde::{Deserialize, Serialize};

/// Bounds of the temperature search.
const MIN_TEMPERATURE: f64 = 1e-3;
/// Upper bound of the temperature search.
const MAX_TEMPERATURE: f64 = 1e4;

/// Temperature scaling for a multi-class head: probabilities =
/// softmax(logits / t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// The temperature; above 1 softens over-confident logits.
    pub t: f64,
}

impl Temperature {
    /// Fits `t` in `[1e-3, 1e4]` minimising the weighted mean negative
    /// log-likelihood of `truth` under `softmax(logits / t)`. `logits` is
    /// row-major `n x k` with `n = truth.len()`; optional weights (`None` =
    /// all 1).
    ///
    /// The loss is convex in `1 / t`, so its derivative is monotone and the
    /// minimum is found by bisection on the sign of that derivative over
    /// `log t`, which converges to machine precision; a minimum at a bound
    /// returns the bound, and a loss that does not depend on `t` at all gives
    /// `t = 1`.
    ///
    /// Rows whose class is `>= k`, with a non-finite logit, or whose weight is
    /// not finite and positive are skipped. Returns `None` when `k` is 0, no
    /// row is usable, `logits.len() != truth.len() * k`, or the weights have
    /// a different length than `truth`.
    pub fn fit(
        logits: &[f64],
        k: usize,
        truth: &[usize],
        weights: Option<&[f64]>,
    ) -> Option<Temperature> {
        if k == 0
            || truth.len().checked_mul(k) != Some(logits.len())
            || weights.is_some_and(|w| w.len() != truth.len())
        {
            return None;
        }
        let rows: Vec<(&[f64], usize, f64)> = logits
            .chunks_exact(k)
            .zip(truth)
            .enumerate()
            .map(|(i, (row, &y))| {
                let w = weights.and_then(|w| w.get(i).copied()).unwrap_or(1.0);
                (row, y, w)
            })
            .filter(|&(row, y, w)| {
                y < k && w.is_finite() && w > 0.0 && row.iter().all(|z| z.is_finite())
            })
            .collect();
        if rows.is_empty() {
            return None;
        }
        // Derivative of the summed loss with respect to beta = 1 / t:
        // sum of w * (E_softmax(beta z)[z] - z_y), non-decreasing in beta.
        let derivative = |beta: f64| -> f64 {
            rows.iter()
                .map(|&(row, y, w)| {
                    let m = row.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(beta * z));
                    let (mut norm, mut mean) = (0.0, 0.0);
                    for &z in row {
                        let e = (beta * z - m).exp();
                        norm += e;
                        mean += e * z;
                    }
                    let zy = row.get(y).copied().unwrap_or(0.0);
                    w * (mean / norm - zy)
                })
                .sum()
        };
        // log beta ranges over [-ln MAX_TEMPERATURE, -ln MIN_TEMPERATURE].
        let (mut lo, mut hi) = (-MAX_TEMPERATURE.ln(), -MIN_TEMPERATURE.ln());
        let (d_lo, d_hi) = (derivative(lo.exp()), derivative(hi.exp()));
        let log_beta = if d_lo >= 0.0 && d_hi <= 0.0 {
            // Flat loss: every temperature is as good.
            0.0
        } else if d_lo >= 0.0 {
            lo
        } else if d_hi <= 0.0 {
            hi
        } else {
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if derivative(mid.exp()) < 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let t = (-log_beta).exp().clamp(MIN_TEMPERATURE, MAX_TEMPERATURE);
        Some(Temperature { t })
    }

    /// Writes `softmax(logits / t)` of one row of logits into `out`,
    /// numerically stable for any finite logits.
    ///
    /// `out` should have the length of `logits`; otherwise only the common
    /// prefix is used and the rest of `out` is left untouched. NaN logits
    /// count as `-inf` (probability 0); `+inf` logits share all the mass; a
    /// row with no usable logit is uniform. A `t` that is not positive (or
    /// NaN) is treated as 1, and `t = inf` gives the uniform distribution
    /// over the finite logits.
    pub fn apply(&self, logits: &[f64], out: &mut [f64]) {
        let n = logits.len().min(out.len());
        let (logits, out) = (&logits[..n], &mut out[..n]);
        if n == 0 {
            return;
        }
        let t = if self.t > 0.0 { self.t } else { 1.0 };
        let scaled = |z: f64| {
            let s = z / t;
            if s.is_nan() {
                f64::NEG_INFINITY
            } else {
                s
            }
        };
        let m = logits
            .iter()
            .fold(f64::NEG_INFINITY, |m, &z| m.max(scaled(z)));
        if m == f64::NEG_INFINITY {
            out.fill(1.0 / n as f64);
            return;
        }
        let mut norm = 0.0;
        for (o, &z) in out.iter_mut().zip(logits) {
            let s = scaled(z);
            *o = if m == f64::INFINITY {
                if s == f64::INFINITY {
                    1.0
                } else {
                    0.0
                }
            } else {
                (s - m).exp()
            };
            norm += *o;
        }
        for o in out.iter_mut() {
            *o /= norm;
        }
    }

    /// Checks the stored temperature is finite and positive; returns a
    /// lowercase message on failure. Called when a model file is loaded.
    ///
    /// # Errors
    ///
    /// [`SettingError::OutOfRange`] for any other value.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.t.is_finite() && self.t > 0.0 {
            Ok(())
        } else {
            Err(SettingError::range(
                "temperature",
                "finite and positive",
                self.t,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::XorShift;

    #[test]
    fn temperature_matches_sklearn() {
        let logits = [
            2.0, 0.5, -1.0, 0.3, 1.0, 0.1, -0.5, 0.2, 1.5, 1.0, 1.1, 0.9, 0.0, -1.0, 2.0, 3.0, 0.0,
            0.0,
        ];
        let truth = [0, 1, 2, 1, 0, 0];
        let t = Temperature::fit(&logits, 3, &truth, None).expect("usable rows");
        // computed with sklearn.calibration._TemperatureScaling (1 / beta_)
        assert!((t.t - 1.029980686910617).abs() < 1e-6, "t = {}", t.t);
        assert!(t.validate().is_ok());
    }

    #[test]
    fn temperature_recovers_scaling() {
        let mut rng = XorShift(77);
        let (n, k) = (20_000, 4);
        let mut logits = Vec::with_capacity(n * k);
        let mut truth = Vec::with_capacity(n);
        let mut probs = vec![0.0; k];
        for _ in 0..n {
            let row: Vec<f64> = (0..k).map(|_| 1.5 * rng.normal()).collect();
            Temperature { t: 1.0 }.apply(&row, &mut probs);
            let u = rng.unit();
            let mut acc = 0.0;
            let mut y = k - 1;
            for (j, p) in probs.iter().enumerate() {
                acc += p;
                if u < acc {
                    y = j;
                    break;
                }
            }
            truth.push(y);
            logits.extend(row.iter().map(|z| 4.0 * z));
        }
        let t = Temperature::fit(&logits, k, &truth, None).expect("usable rows");
        assert!((t.t - 4.0).abs() < 0.25, "t = {}", t.t);
        // Weights of 1 change nothing.
        let ones = vec![1.0; n];
        let tw = Temperature::fit(&logits, k, &truth, Some(&ones)).expect("usable rows");
        assert!((tw.t - t.t).abs() < 1e-9);
    }

    #[test]
    fn temperature_degenerate_inputs() {
        assert_eq!(Temperature::fit(&[], 3, &[], None), None);
        assert_eq!(Temperature::fit(&[1.0, 2.0], 0, &[], None), None);
        assert_eq!(Temperature::fit(&[1.0, 2.0, 3.0], 2, &[0], None), None);
        assert_eq!(Temperature::fit(&[1.0, 2.0], 2, &[0], Some(&[])), None);
        assert_eq!(Temperature::fit(&[1.0, 2.0], 2, &[5], None), None);
        assert_eq!(Temperature::fit(&[f64::NAN, 2.0], 2, &[0], None), None);
        // Logits that do not depend on t: t = 1.
        let t = Temperature::fit(&[1.0, 1.0, 0.0, 0.0], 2, &[0, 1], None).expect("usable");
        assert_eq!(t.t, 1.0);
        // Always-right logits push t to the lower bound, always-wrong to the upper.
        let t = Temperature::fit(&[2.0, 0.0, 0.0, 2.0], 2, &[0, 1], None).expect("usable");
        assert!((t.t - MIN_TEMPERATURE).abs() < 1e-12);
        let t = Temperature::fit(&[2.0, 0.0, 0.0, 2.0], 2, &[1, 0], None).expect("usable");
        assert!((t.t - MAX_TEMPERATURE).abs() < 1e-6);
        assert!(Temperature { t: 0.0 }.validate().is_err());
        assert!(Temperature { t: f64::NAN }.validate().is_err());
    }

    #[test]
    fn temperature_apply_is_a_stable_softmax() {
        let mut out = [0.0; 3];
        Temperature { t: 2.0 }.apply(&[2.0, 0.0, -2.0], &mut out);
        let e = [1.0f64.exp(), 1.0, (-1.0f64).exp()];
        let sum: f64 = e.iter().sum();
        for (o, x) in out.iter().zip(e) {
            assert!((o - x / sum).abs() < 1e-15);
        }
        let cases: [(f64, [f64; 3]); 6] = [
            (1.0, [1e300, -1e300, 0.0]),
            (1e-3, [1e300, 1e300, -1e300]),
            (1.0, [f64::NAN, 1.0, 1.0]),
            (1.0, [f64::INFINITY, 1.0, f64::INFINITY]),
            (1.0, [f64::NAN, f64::NAN, f64::NEG_INFINITY]),
            (-1.0, [1.0, 2.0, 3.0]),
        ];
        for (t, logits) in cases {
            Temperature { t }.apply(&logits, &mut out);
            let sum: f64 = out.iter().sum();
            assert!(out.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
            assert!((sum - 1.0).abs() < 1e-12, "{logits:?}");
        }
        Temperature { t: 1.0 }.apply(&[f64::INFINITY, 1.0, f64::INFINITY], &mut out);
        assert_eq!(out, [0.5, 0.0, 0.5]);
        // Mismatched lengths use the common prefix and never panic.
        let mut short = [0.0; 2];
        Temperature { t: 1.0 }.apply(&[0.0, 0.0, 5.0], &mut short);
        assert_eq!(short, [0.5, 0.5]);
        Temperature { t: 1.0 }.apply(&[], &mut short);
    }
}
