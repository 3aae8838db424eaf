//! Platt scaling: a logistic map of the raw score, fitted by Newton's
//! method on held-out scores and labels.

use super::{class_weights, sigmoid, weighted_samples, Calibration};

/// Largest number of Newton iterations of the Platt fit.
const PLATT_MAX_ITERATIONS: usize = 100;

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

impl Calibration {
    /// Platt scaling fitted by Newton's method (with a line-search / step
    /// halving fallback) on raw scores and binary labels, using Platt's (1999)
    /// smoothed targets `(N+ + 1)/(N+ + 2)` and `1/(N- + 2)`, where `N+` and
    /// `N-` are the total weights of the positives and negatives. Optional
    /// per-sample weights (`None` = all 1) act as frequency weights.
    ///
    /// Samples with a non-finite score or a weight that is not finite and
    /// positive are skipped. Returns `None` if a class is absent after that,
    /// if the lengths of `scores`, `labels` and `weights` differ, or if the
    /// fit does not produce finite parameters.
    pub fn fit_platt(
        scores: &[f64],
        labels: &[bool],
        weights: Option<&[f64]>,
    ) -> Option<Calibration> {
        let samples = weighted_samples(scores, labels, weights)?;
        let (prior1, prior0) = class_weights(&samples);
        if prior1 <= 0.0 || prior0 <= 0.0 {
            return None;
        }
        let hi = (prior1 + 1.0) / (prior1 + 2.0);
        let lo = 1.0 / (prior0 + 2.0);
        let total = prior1 + prior0;

        // Standardize the scores (after dividing by the largest magnitude so
        // that even scores near f64::MAX cannot overflow); the fit is then
        // well conditioned and the parameters are mapped back at the end.
        let max_abs = samples.iter().fold(0.0f64, |m, &(s, _, _)| m.max(s.abs()));
        let scale = if max_abs > 0.0 { max_abs } else { 1.0 };
        let mean = samples
            .iter()
            .map(|&(s, _, w)| w * (s / scale))
            .sum::<f64>()
            / total;
        let var = samples
            .iter()
            .map(|&(s, _, w)| w * (s / scale - mean).powi(2))
            .sum::<f64>()
            / total;
        let sd = if var > 0.0 && var.is_finite() {
            var.sqrt()
        } else {
            1.0
        };
        let data: Vec<(f64, f64, f64)> = samples
            .iter()
            .map(|&(s, l, w)| ((s / scale - mean) / sd, if l { hi } else { lo }, w))
            .collect();

        let loss = |alpha: f64, beta: f64| -> f64 {
            data.iter()
                .map(|&(x, t, w)| {
                    let f = alpha * x + beta;
                    w * (softplus(f) - t * f)
                })
                .sum()
        };

        let mut alpha = 0.0;
        let mut beta = ((prior1 + 1.0) / (prior0 + 1.0)).ln();
        let mut current = loss(alpha, beta);
        for _ in 0..PLATT_MAX_ITERATIONS {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for &(x, t, w) in &data {
                let p = sigmoid(alpha * x + beta);
                let d = w * (p - t);
                let h = w * p * (1.0 - p);
                ga += d * x;
                gb += d;
                haa += h * x * x;
                hab += h * x;
                hbb += h;
            }
            if ga.abs().max(gb.abs()) <= 1e-12 * total {
                break;
            }
            // A tiny ridge keeps the 2 x 2 system solvable (Lin, Lin & Weng).
            haa += 1e-12;
            hbb += 1e-12;
            let det = haa * hbb - hab * hab;
            let (mut da, mut db) = if det > 0.0 && det.is_finite() {
                (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det)
            } else {
                (-ga, -gb)
            };
            let mut slope = ga * da + gb * db;
            if slope >= 0.0 || slope.is_nan() {
                // Not a descent direction: fall back to steepest descent.
                da = -ga;
                db = -gb;
                slope = -(ga * ga + gb * gb);
            }
            let mut step = 1.0;
            let mut accepted = false;
            while step >= 1e-10 {
                let (na, nb) = (alpha + step * da, beta + step * db);
                let candidate = loss(na, nb);
                if candidate <= current + 1e-4 * step * slope {
                    alpha = na;
                    beta = nb;
                    current = candidate;
                    accepted = true;
                    break;
                }
                step /= 2.0;
            }
            if !accepted {
                break;
            }
        }

        // f = alpha * (s / scale - mean) / sd + beta
        let a = alpha / sd / scale;
        let b = beta - alpha * mean / sd;
        (a.is_finite() && b.is_finite()).then_some(Calibration::Platt { a, b })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::calibration::tests::{LABELS, SCORES};
    use crate::testing::XorShift;

    fn platt_params(c: &Calibration) -> (f64, f64) {
        match c {
            Calibration::Platt { a, b } => (*a, *b),
            other => panic!("expected a platt calibration, not {other:?}"),
        }
    }

    #[test]
    fn platt_matches_sklearn() {
        let c = Calibration::fit_platt(&SCORES, &LABELS, None).expect("both classes present");
        let (a, b) = platt_params(&c);
        // computed with sklearn.calibration._sigmoid_calibration, which returns (-a, -b)
        assert!((a - 0.5620660840889506).abs() < 1e-5, "a = {a}");
        // computed with sklearn.calibration._sigmoid_calibration, which returns (-a, -b)
        assert!((b - -0.1207453385975193).abs() < 1e-5, "b = {b}");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn platt_recovers_generating_parameters() {
        let mut rng = XorShift(0x5eed);
        let (true_a, true_b) = (1.5, -0.5);
        let scores: Vec<f64> = (0..40_000).map(|_| 3.0 * rng.normal()).collect();
        let labels: Vec<bool> = scores
            .iter()
            .map(|&s| rng.unit() < sigmoid(true_a * s + true_b))
            .collect();
        let c = Calibration::fit_platt(&scores, &labels, None).expect("both classes present");
        let (a, b) = platt_params(&c);
        assert!((a - true_a).abs() < 0.1, "a = {a}");
        assert!((b - true_b).abs() < 0.1, "b = {b}");
    }

    #[test]
    fn platt_weights_act_as_frequencies_and_scale_is_irrelevant() {
        let weights: Vec<f64> = (0..SCORES.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let weighted =
            Calibration::fit_platt(&SCORES, &LABELS, Some(&weights)).map(|c| platt_params(&c));
        let (mut s, mut l) = (Vec::new(), Vec::new());
        for ((&score, &label), &w) in SCORES.iter().zip(&LABELS).zip(&weights) {
            for _ in 0..w as usize {
                s.push(score);
                l.push(label);
            }
        }
        let repeated = Calibration::fit_platt(&s, &l, None).map(|c| platt_params(&c));
        let ((wa, wb), (ra, rb)) = (weighted.unwrap_or_default(), repeated.unwrap_or_default());
        assert!((wa - ra).abs() < 1e-9 && (wb - rb).abs() < 1e-9);

        // Scores near the top of the f64 range give the same probabilities.
        let huge: Vec<f64> = SCORES.iter().map(|s| s * 1e300).collect();
        let small = Calibration::fit_platt(&SCORES, &LABELS, None).expect("fits");
        let big = Calibration::fit_platt(&huge, &LABELS, None).expect("fits");
        for (&s, &h) in SCORES.iter().zip(&huge) {
            assert!((small.apply(s) - big.apply(h)).abs() < 1e-9);
        }
    }

    #[test]
    fn platt_degenerate_inputs() {
        assert_eq!(Calibration::fit_platt(&[], &[], None), None);
        assert_eq!(
            Calibration::fit_platt(&[1.0, 2.0], &[true, true], None),
            None
        );
        assert_eq!(Calibration::fit_platt(&[1.0, 2.0], &[true], None), None);
        assert_eq!(
            Calibration::fit_platt(&[1.0, 2.0], &[true, false], Some(&[1.0])),
            None
        );
        // Zero, negative and NaN weights drop samples; a class can vanish.
        assert_eq!(
            Calibration::fit_platt(&[1.0, 2.0], &[true, false], Some(&[1.0, 0.0])),
            None
        );
        assert_eq!(
            Calibration::fit_platt(&[f64::NAN, 2.0], &[true, false], None),
            None
        );
        // Identical scores: the slope stays 0 and the base rate is fitted.
        let c = Calibration::fit_platt(&[0.7; 4], &[true, false, false, false], None)
            .expect("both classes present");
        let (a, b) = platt_params(&c);
        assert_eq!(a, 0.0);
        // Platt's targets give (1 + 1/3 + 3 * 1/5) / 4 = 0.4833...
        assert!((sigmoid(b) - (2.0 / 3.0 + 3.0 / 5.0) / 4.0).abs() < 1e-9);
        // Perfectly separated data still gives finite parameters.
        let c = Calibration::fit_platt(&[-1.0, -0.5, 0.5, 1.0], &[false, false, true, true], None)
            .expect("both classes present");
        assert!(c.validate().is_ok());
    }
}
