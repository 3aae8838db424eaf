//! Calibration metrics of a binary probability: equal-width reliability
//! bins (the data of a reliability diagram) and the expected calibration
//! error computed from them.

use serde::Serialize;

use super::ratio;

/// One equal-width bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge (`i / n_bins`), exclusive except for the first bin.
    pub lower: f64,
    /// Upper edge (`(i + 1) / n_bins`), inclusive.
    pub upper: f64,
    /// Number of probabilities in the bin.
    pub count: u64,
    /// Mean predicted probability of the bin; 0 when the bin is empty.
    pub mean_predicted: f64,
    /// Fraction of the bin's rows that are positive; 0 when the bin is empty.
    pub observed_rate: f64,
}

/// Index of the bin holding `p` (already in `[0, 1]`): bins are
/// `(i/n, (i+1)/n]`, the first one also holding 0, as in
/// `sklearn.calibration.calibration_curve`.
fn bin_index(p: f64, n_bins: usize) -> usize {
    let n = n_bins as f64;
    let lower = |i: usize| i as f64 / n;
    let upper = |i: usize| (i + 1) as f64 / n;
    // `p * n` is at most one rounding away; the loops fix the edge cases so
    // that membership agrees exactly with the reported edges.
    let mut i = ((p * n).ceil() as usize).saturating_sub(1).min(n_bins - 1);
    while i > 0 && p <= lower(i) {
        i -= 1;
    }
    while i + 1 < n_bins && p > upper(i) {
        i += 1;
    }
    i
}

/// Reliability bins for a binary probability: `n_bins` equal-width bins over
/// `[0, 1]`; each has its count, mean predicted probability and observed
/// positive rate. All `n_bins` bins are returned, empty ones included.
///
/// Bin `i` holds probabilities in `(i/n, (i+1)/n]`, the first bin also
/// holding 0 (the convention of `sklearn.calibration.calibration_curve`).
/// Probabilities outside `[0, 1]` are clamped into it and NaN probabilities
/// are skipped. Empty when `n_bins` is 0 or the lengths differ.
pub fn reliability_bins(probs: &[f64], labels: &[bool], n_bins: usize) -> Vec<ReliabilityBin> {
    if n_bins == 0 || probs.len() != labels.len() {
        return Vec::new();
    }
    let mut counts = vec![0u64; n_bins];
    let mut prob_sums = vec![0.0f64; n_bins];
    let mut positives = vec![0u64; n_bins];
    for (&p, &label) in probs.iter().zip(labels) {
        if p.is_nan() {
            continue;
        }
        let p = p.clamp(0.0, 1.0);
        let i = bin_index(p, n_bins);
        if let (Some(c), Some(s), Some(k)) = (
            counts.get_mut(i),
            prob_sums.get_mut(i),
            positives.get_mut(i),
        ) {
            *c += 1;
            *s += p;
            *k += u64::from(label);
        }
    }
    (0..n_bins)
        .zip(counts.iter().zip(prob_sums.iter().zip(&positives)))
        .map(|(i, (&count, (&sum, &pos)))| ReliabilityBin {
            lower: i as f64 / n_bins as f64,
            upper: (i + 1) as f64 / n_bins as f64,
            count,
            mean_predicted: if count == 0 { 0.0 } else { sum / count as f64 },
            observed_rate: ratio(pos, count),
        })
        .collect()
}

/// Expected calibration error over the equal-width bins of
/// [`reliability_bins`]: the mean of `|observed_rate - mean_predicted|`
/// weighted by bin count.
///
/// Returns `None` when there is no usable (non-NaN) probability, `n_bins` is
/// 0 or the lengths differ.
pub fn expected_calibration_error(probs: &[f64], labels: &[bool], n_bins: usize) -> Option<f64> {
    let bins = reliability_bins(probs, labels, n_bins);
    let total: u64 = bins.iter().map(|b| b.count).sum();
    if total == 0 {
        return None;
    }
    let weighted: f64 = bins
        .iter()
        .map(|b| b.count as f64 * (b.observed_rate - b.mean_predicted).abs())
        .sum();
    Some(weighted / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::metrics::tests::assert_close;
    use crate::testing::XorShift;

    #[test]
    fn reliability_bins_match_sklearn() {
        let probs = [
            0.05, 0.15, 0.22, 0.31, 0.38, 0.45, 0.52, 0.61, 0.69, 0.77, 0.85, 0.93, 0.99, 0.4, 0.6,
            0.0, 1.0,
        ];
        let labels = [
            false, false, true, false, false, true, false, true, true, true, true, true, true,
            false, true, false, true,
        ];
        let bins = reliability_bins(&probs, &labels, 5);
        assert_eq!(bins.len(), 5);
        // computed with sklearn.calibration.calibration_curve(n_bins=5, strategy="uniform")
        let observed = [0.0, 0.25, 0.6666666666666666, 1.0, 1.0];
        // computed with sklearn.calibration.calibration_curve(n_bins=5, strategy="uniform")
        let predicted = [
            0.06666666666666667,
            0.3275,
            0.5233333333333333,
            0.69,
            0.9425,
        ];
        // computed with numpy.bincount of the bin ids used by sklearn.calibration.calibration_curve
        let counts = [3, 4, 3, 3, 4];
        for (i, b) in bins.iter().enumerate() {
            assert_close(b.observed_rate, observed[i]);
            assert_close(b.mean_predicted, predicted[i]);
            assert_eq!(b.count, counts[i]);
            assert_close(b.lower, i as f64 / 5.0);
            assert_close(b.upper, (i + 1) as f64 / 5.0);
        }
        // computed with sklearn.calibration.calibration_curve, weighting |prob_true - prob_pred|
        // by the bin counts
        let ece = expected_calibration_error(&probs, &labels, 5).unwrap_or(f64::NAN);
        assert_close(ece, 0.1235294117647059);
    }

    #[test]
    fn reliability_bins_edge_cases() {
        assert!(reliability_bins(&[0.5], &[true], 0).is_empty());
        assert!(reliability_bins(&[0.5], &[true, false], 3).is_empty());
        let bins = reliability_bins(&[], &[], 4);
        assert_eq!(bins.len(), 4);
        assert!(bins.iter().all(|b| b.count == 0 && b.mean_predicted == 0.0));
        assert_eq!(expected_calibration_error(&[], &[], 4), None);
        assert_eq!(expected_calibration_error(&[f64::NAN], &[true], 4), None);
        assert_eq!(expected_calibration_error(&[0.5], &[true], 0), None);
        // Out-of-range probabilities are clamped, NaN is skipped.
        let bins = reliability_bins(&[-3.0, 7.0, f64::NAN], &[false, true, true], 2);
        assert_eq!((bins[0].count, bins[1].count), (1, 1));
        assert_eq!(bins[0].mean_predicted, 0.0);
        assert_eq!(bins[1].mean_predicted, 1.0);
        // Every edge i/n belongs to the bin below it.
        for n in 1..40usize {
            for i in 1..n {
                let edge = i as f64 / n as f64;
                assert_eq!(bin_index(edge, n), i - 1, "edge {i}/{n}");
                assert_eq!(bin_index(edge.next_up_compat(), n), i, "above {i}/{n}");
            }
            assert_eq!(bin_index(0.0, n), 0);
            assert_eq!(bin_index(1.0, n), n - 1);
        }
    }

    /// `f64::next_up` needs Rust 1.86; the crate supports older compilers.
    trait NextUp {
        fn next_up_compat(self) -> f64;
    }

    impl NextUp for f64 {
        fn next_up_compat(self) -> f64 {
            // Only used on positive finite values.
            f64::from_bits(self.to_bits() + 1)
        }
    }

    #[test]
    fn ece_of_perfectly_calibrated_bins_is_near_zero() {
        // In each of 10 bins every row predicts the bin's observed positive rate.
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for bin in 0..10 {
            let p = (bin as f64 + 0.5) / 10.0;
            for j in 0..20 {
                probs.push(p);
                labels.push((j as f64) < p * 20.0);
            }
        }
        let ece = expected_calibration_error(&probs, &labels, 10).unwrap_or(f64::NAN);
        assert!(ece.abs() < 1e-12, "ece {ece}");
        // Randomly drawn labels from calibrated probabilities give a small ECE.
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let probs: Vec<f64> = (0..50_000).map(|_| rng.unit()).collect();
        let labels: Vec<bool> = probs.iter().map(|&p| rng.unit() < p).collect();
        let ece = expected_calibration_error(&probs, &labels, 10).unwrap_or(f64::NAN);
        assert!(ece < 0.02, "ece {ece}");
    }
}
