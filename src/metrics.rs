//! Evaluation metrics for `civility eval`: binary confusion counts at a
//! threshold, ranking metrics (ROC AUC, average precision) and their curves,
//! a multi-class confusion matrix with per-class and macro F1, reliability
//! bins with the expected calibration error, and the thresholds that reach a
//! target precision or recall.
//!
//! Every function sorts the scores at most once, so the cost is O(n log n)
//! and 100k rows are cheap. No function panics: mismatched lengths, empty
//! input and NaN give `None`, an empty `Vec` or a documented value.
//!
//! NaN scores are treated as the lowest possible score (below `-inf`), and
//! all NaNs are tied with each other; `-0.0` and `0.0` are the same score.
//! A NaN score is therefore never predicted positive at a real threshold.

use std::cmp::Ordering;

use serde::Serialize;

/// Maps a score to the key it is sorted and compared by: every NaN becomes
/// one negative NaN, which `f64::total_cmp` puts below `-inf`, and `-0.0`
/// becomes `0.0` so that the two zeros tie.
fn score_key(x: f64) -> f64 {
    if x.is_nan() {
        // A negative quiet NaN is the lowest value in `total_cmp` order; one
        // fixed bit pattern makes all NaNs tie.
        f64::from_bits(0xfff8_0000_0000_0000)
    } else if x == 0.0 {
        0.0
    } else {
        x
    }
}

/// Compares two scores with NaN as the lowest value and the two zeros tied.
fn score_cmp(a: f64, b: f64) -> Ordering {
    score_key(a).total_cmp(&score_key(b))
}

/// Whether `score` is predicted positive at `threshold` (`score >= threshold`
/// in the NaN-lowest order).
fn is_at_or_above(score: f64, threshold: f64) -> bool {
    score_cmp(score, threshold) != Ordering::Less
}

/// Cumulative counts of everything scored at or above one distinct score.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// The distinct score (the original value of the group's first member).
    threshold: f64,
    /// Positives scored at or above `threshold`.
    tp: u64,
    /// Negatives scored at or above `threshold`.
    fp: u64,
}

/// Distinct scores in descending order (NaN last) with cumulative counts.
/// Returns `None` when the lengths differ. The last group holds the totals.
fn descending_groups(scores: &[f64], labels: &[bool]) -> Option<Vec<Group>> {
    if scores.len() != labels.len() {
        return None;
    }
    let mut pairs: Vec<(f64, bool)> = scores
        .iter()
        .zip(labels)
        .map(|(&s, &l)| (score_key(s), l))
        .collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut groups: Vec<Group> = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, &(s, label)) in pairs.iter().enumerate() {
        if label {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = pairs
            .get(i + 1)
            .map_or(true, |next| next.0.total_cmp(&s) != Ordering::Equal);
        if last_of_group {
            groups.push(Group {
                threshold: if s.is_nan() { f64::NAN } else { s },
                tp,
                fp,
            });
        }
    }
    Some(groups)
}

/// Total positives and negatives of a group list (the last group's counts).
fn totals(groups: &[Group]) -> (u64, u64) {
    groups.last().map_or((0, 0), |g| (g.tp, g.fp))
}

/// `num / den` as `f64`, or 0 when `den` is 0.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Counts of a binary decision at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BinaryConfusion {
    /// Positives predicted positive.
    pub tp: u64,
    /// Negatives predicted positive.
    pub fp: u64,
    /// Negatives predicted negative.
    pub tn: u64,
    /// Positives predicted negative (serialized as `fn`).
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl BinaryConfusion {
    /// Counts the decisions "positive iff `score >= threshold`".
    ///
    /// Extra elements of the longer slice are ignored. A NaN score counts as
    /// the lowest score, so it is predicted negative at any threshold except
    /// a NaN threshold, which predicts every row positive (this matches the
    /// NaN point of [`roc_curve`] and [`pr_curve`]).
    pub fn at_threshold(scores: &[f64], labels: &[bool], threshold: f64) -> Self {
        let mut c = BinaryConfusion::default();
        for (&s, &label) in scores.iter().zip(labels) {
            match (is_at_or_above(s, threshold), label) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        c
    }

    /// `tp / (tp + fp)`; 0 when nothing is predicted positive.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `tp / (tp + fn)`; 0 when there are no positives.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Harmonic mean of precision and recall, `2tp / (2tp + fp + fn)`; 0 when
    /// there are neither positives nor predicted positives.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Fraction of rows decided correctly; 0 when there are no rows.
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.fp + self.tn + self.fn_)
    }
}

/// ROC AUC with ties counted as one half (rank-based / Mann-Whitney): the
/// probability that a random positive scores above a random negative.
///
/// Returns `None` if either class is absent or the lengths differ. NaN scores
/// rank lowest and tie with each other.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let groups = descending_groups(scores, labels)?;
    let (pos, neg) = totals(&groups);
    if pos == 0 || neg == 0 {
        return None;
    }
    // Twice the number of (positive, negative) pairs ordered correctly, with
    // tied pairs counting once; exact in integers.
    let mut twice_correct: u128 = 0;
    let (mut prev_tp, mut prev_fp) = (0u64, 0u64);
    for g in &groups {
        let dp = u128::from(g.tp - prev_tp);
        let dn = u128::from(g.fp - prev_fp);
        let neg_below = u128::from(neg - g.fp);
        twice_correct += dp * (2 * neg_below + dn);
        prev_tp = g.tp;
        prev_fp = g.fp;
    }
    Some(twice_correct as f64 / (2.0 * pos as f64 * neg as f64))
}

/// Average precision, as `sklearn.metrics.average_precision_score`: the
/// step-function sum of `(R_k - R_{k-1}) * P_k` over the distinct scores in
/// descending order, equal scores forming one step.
///
/// Returns `None` if there is no positive or the lengths differ.
pub fn average_precision(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let groups = descending_groups(scores, labels)?;
    let (pos, _) = totals(&groups);
    if pos == 0 {
        return None;
    }
    let mut ap = 0.0;
    let mut prev_tp = 0u64;
    for g in &groups {
        if g.tp > prev_tp {
            ap += ratio(g.tp - prev_tp, pos) * ratio(g.tp, g.tp + g.fp);
        }
        prev_tp = g.tp;
    }
    Some(ap)
}

/// ROC curve points `(fpr, tpr, threshold)` from `(0, 0)` to `(1, 1)`, one
/// point per distinct score in descending order, like
/// `sklearn.metrics.roc_curve(drop_intermediate=False)` including its
/// starting point, whose threshold is `+inf` (nothing predicted positive).
///
/// A point's threshold predicts positive every score `>=` it. If scores
/// contain NaN, the last point has a NaN threshold (NaN is the lowest score).
/// Empty when either class is absent or the lengths differ.
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64, f64)> {
    let Some(groups) = descending_groups(scores, labels) else {
        return Vec::new();
    };
    let (pos, neg) = totals(&groups);
    if pos == 0 || neg == 0 {
        return Vec::new();
    }
    let mut points = Vec::with_capacity(groups.len() + 1);
    points.push((0.0, 0.0, f64::INFINITY));
    points.extend(
        groups
            .iter()
            .map(|g| (ratio(g.fp, neg), ratio(g.tp, pos), g.threshold)),
    );
    points
}

/// Precision-recall curve points `(recall, precision, threshold)`, one per
/// distinct score in descending threshold order (so recall is
/// non-decreasing and the last point has recall 1).
///
/// Unlike `sklearn.metrics.precision_recall_curve`, the order is by
/// descending threshold and there is no extra `(0, 1)` point without a
/// threshold. A NaN threshold appears last when scores contain NaN. Empty
/// when there is no positive or the lengths differ.
pub fn pr_curve(scores: &[f64], labels: &[bool]) -> Vec<(f64, f64, f64)> {
    let Some(groups) = descending_groups(scores, labels) else {
        return Vec::new();
    };
    let (pos, _) = totals(&groups);
    if pos == 0 {
        return Vec::new();
    }
    groups
        .iter()
        .map(|g| (ratio(g.tp, pos), ratio(g.tp, g.tp + g.fp), g.threshold))
        .collect()
}

/// Multi-class confusion matrix: rows = true class, columns = predicted
/// class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// `counts[t][p]` is the number of rows of true class `t` predicted as
    /// class `p`; an `n_classes x n_classes` matrix.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Counts `(truth[i], predicted[i])` pairs. Pairs with an index
    /// `>= n_classes` are ignored, as are extra elements of the longer slice.
    pub fn new(truth: &[usize], predicted: &[usize], n_classes: usize) -> Self {
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            if let Some(cell) = counts.get_mut(t).and_then(|row| row.get_mut(p)) {
                *cell += 1;
            }
        }
        ConfusionMatrix { counts }
    }

    /// Number of classes (rows) of the matrix.
    fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// `(true positives, row total, column total)` of class `c`.
    fn class_counts(&self, c: usize) -> (u64, u64, u64) {
        let tp = self
            .counts
            .get(c)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(0);
        let row_total = self.counts.get(c).map_or(0, |row| row.iter().sum());
        let col_total = self
            .counts
            .iter()
            .map(|row| row.get(c).copied().unwrap_or(0))
            .sum();
        (tp, row_total, col_total)
    }

    /// F1 of each class treated one-vs-rest, `2tp / (row + column)`; 0 for a
    /// class that occurs neither in truth nor in predictions.
    pub fn per_class_f1(&self) -> Vec<f64> {
        (0..self.n_classes())
            .map(|c| {
                let (tp, row, col) = self.class_counts(c);
                ratio(2 * tp, row + col)
            })
            .collect()
    }

    /// Unweighted mean of the per-class F1 over the classes that occur in the
    /// truth or in the predictions, like `sklearn.metrics.f1_score(average =
    /// "macro")` with its default labels (the union of those present). Classes
    /// that never occur are left out rather than counted as 0, so declaring
    /// an unused class does not lower the score. 0 when the matrix is empty.
    pub fn macro_f1(&self) -> f64 {
        let (mut sum, mut present) = (0.0, 0u64);
        for c in 0..self.n_classes() {
            let (tp, row, col) = self.class_counts(c);
            if row + col > 0 {
                sum += ratio(2 * tp, row + col);
                present += 1;
            }
        }
        if present == 0 {
            0.0
        } else {
            sum / present as f64
        }
    }

    /// Fraction of counted rows on the diagonal; 0 when the matrix is empty.
    pub fn accuracy(&self) -> f64 {
        let total: u64 = self.counts.iter().flatten().sum();
        let diagonal: u64 = (0..self.n_classes()).map(|c| self.class_counts(c).0).sum();
        ratio(diagonal, total)
    }
}

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

/// The smallest threshold at which precision (of "positive iff `score >=`
/// threshold") is at least `target`; `None` if it is never reached.
///
/// Candidate thresholds are the distinct non-NaN scores, so the answer is
/// always one of the scores. `None` as well when the slices are empty or
/// their lengths differ.
pub fn threshold_for_precision(scores: &[f64], labels: &[bool], target: f64) -> Option<f64> {
    let groups = descending_groups(scores, labels)?;
    groups
        .iter()
        .rev()
        .find(|g| !g.threshold.is_nan() && ratio(g.tp, g.tp + g.fp) >= target)
        .map(|g| g.threshold)
}

/// The largest threshold at which recall (of "positive iff `score >=`
/// threshold") is at least `target`; `None` if it is never reached.
///
/// Candidate thresholds are the distinct non-NaN scores. `None` as well when
/// there is no positive, or the lengths differ.
pub fn threshold_for_recall(scores: &[f64], labels: &[bool], target: f64) -> Option<f64> {
    let groups = descending_groups(scores, labels)?;
    let (pos, _) = totals(&groups);
    if pos == 0 {
        return None;
    }
    groups
        .iter()
        .find(|g| !g.threshold.is_nan() && ratio(g.tp, pos) >= target)
        .map(|g| g.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::XorShift;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    fn assert_close(a: f64, b: f64) {
        assert!(close(a, b), "{a} != {b}");
    }

    // Hand-made binary example with ties at 0.4 (one positive, two negatives).
    const SCORES_A: [f64; 10] = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2, 0.9, 0.55, 0.4];
    const LABELS_A: [bool; 10] = [
        false, false, true, true, true, false, false, true, true, false,
    ];

    #[test]
    fn binary_confusion_matches_sklearn() {
        let c = BinaryConfusion::at_threshold(&SCORES_A, &LABELS_A, 0.4);
        // computed with sklearn.metrics.confusion_matrix(y, s >= 0.4).ravel() = [tn, fp, fn, tp]
        assert_eq!(
            c,
            BinaryConfusion {
                tp: 4,
                fp: 3,
                tn: 2,
                fn_: 1
            }
        );
        // computed with sklearn.metrics.precision_score
        assert_close(c.precision(), 0.5714285714285714);
        // computed with sklearn.metrics.recall_score
        assert_close(c.recall(), 0.8);
        // computed with sklearn.metrics.f1_score
        assert_close(c.f1(), 0.6666666666666666);
        // computed with sklearn.metrics.accuracy_score
        assert_close(c.accuracy(), 0.6);
    }

    #[test]
    fn binary_confusion_edge_cases() {
        let empty = BinaryConfusion::at_threshold(&[], &[], 0.5);
        assert_eq!(empty, BinaryConfusion::default());
        assert_eq!(empty.precision(), 0.0);
        assert_eq!(empty.recall(), 0.0);
        assert_eq!(empty.f1(), 0.0);
        assert_eq!(empty.accuracy(), 0.0);
        // Extra elements of the longer slice are ignored.
        let c = BinaryConfusion::at_threshold(&[0.9, 0.1, 0.8], &[true, false], 0.5);
        assert_eq!((c.tp, c.fp, c.tn, c.fn_), (1, 0, 1, 0));
        // NaN scores are the lowest: negative at any real threshold...
        let c = BinaryConfusion::at_threshold(&[f64::NAN, 0.2], &[true, false], f64::NEG_INFINITY);
        assert_eq!((c.tp, c.fp, c.tn, c.fn_), (0, 1, 0, 1));
        // ...and a NaN threshold predicts everything positive.
        let c = BinaryConfusion::at_threshold(&[f64::NAN, 0.2], &[true, false], f64::NAN);
        assert_eq!((c.tp, c.fp, c.tn, c.fn_), (1, 1, 0, 0));
        // -0.0 and 0.0 are the same score.
        let c = BinaryConfusion::at_threshold(&[-0.0], &[true], 0.0);
        assert_eq!(c.tp, 1);
    }

    #[test]
    fn roc_auc_matches_sklearn() {
        // computed with sklearn.metrics.roc_auc_score
        assert_close(roc_auc(&SCORES_A, &LABELS_A).unwrap_or(f64::NAN), 0.76);
        let s = [3.0, 1.0, 2.0, 3.0, 2.0, 1.0, 3.0, 2.0];
        let l = [true, false, true, false, true, false, true, false];
        // computed with sklearn.metrics.roc_auc_score
        assert_close(roc_auc(&s, &l).unwrap_or(f64::NAN), 0.75);
        let tied = [0.5; 6];
        let l = [true, false, false, true, false, false];
        // computed with sklearn.metrics.roc_auc_score
        assert_close(roc_auc(&tied, &l).unwrap_or(f64::NAN), 0.5);
    }

    #[test]
    fn roc_auc_degenerate_inputs() {
        assert_eq!(roc_auc(&[], &[]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[false, false]), None);
        assert_eq!(roc_auc(&[0.1, 0.2], &[true]), None);
        // NaN ranks lowest: a NaN negative below a real positive is correct.
        assert_eq!(roc_auc(&[f64::NAN, 0.3], &[false, true]), Some(1.0));
        assert_eq!(roc_auc(&[f64::NAN, f64::NAN], &[false, true]), Some(0.5));
        assert_eq!(roc_auc(&[-0.0, 0.0], &[false, true]), Some(0.5));
    }

    #[test]
    fn average_precision_matches_sklearn() {
        // computed with sklearn.metrics.average_precision_score
        let ap = average_precision(&SCORES_A, &LABELS_A).unwrap_or(f64::NAN);
        assert_close(ap, 0.7892857142857144);
        let s = [3.0, 1.0, 2.0, 3.0, 2.0, 1.0, 3.0, 2.0];
        let l = [true, false, true, false, true, false, true, false];
        // computed with sklearn.metrics.average_precision_score
        assert_close(
            average_precision(&s, &l).unwrap_or(f64::NAN),
            0.6666666666666666,
        );
        let tied = [0.5; 6];
        let l = [true, false, false, true, false, false];
        // computed with sklearn.metrics.average_precision_score
        assert_close(
            average_precision(&tied, &l).unwrap_or(f64::NAN),
            0.3333333333333333,
        );
        assert_eq!(average_precision(&[0.3, 0.4], &[false, false]), None);
        assert_eq!(average_precision(&[0.3], &[true, false]), None);
        assert_eq!(average_precision(&[], &[]), None);
    }

    #[test]
    fn roc_curve_matches_sklearn() {
        let curve = roc_curve(&SCORES_A, &LABELS_A);
        // computed with sklearn.metrics.roc_curve(drop_intermediate=False)
        let fpr = [0.0, 0.0, 0.0, 0.2, 0.2, 0.6, 0.6, 0.8, 1.0];
        let tpr = [0.0, 0.2, 0.4, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0];
        let thr = [f64::INFINITY, 0.9, 0.8, 0.7, 0.55, 0.4, 0.35, 0.2, 0.1];
        assert_eq!(curve.len(), fpr.len());
        for (i, &(f, t, th)) in curve.iter().enumerate() {
            assert_close(f, fpr[i]);
            assert_close(t, tpr[i]);
            assert_eq!(th, thr[i]);
        }
        assert!(roc_curve(&[0.1], &[true]).is_empty());
        assert!(roc_curve(&[0.1, 0.2], &[true]).is_empty());
    }

    #[test]
    fn pr_curve_matches_sklearn() {
        let curve = pr_curve(&SCORES_A, &LABELS_A);
        // computed with sklearn.metrics.precision_recall_curve (reversed, final (0, 1) point dropped)
        let recall = [0.2, 0.4, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0];
        let precision = [
            1.0,
            1.0,
            0.6666666666666666,
            0.75,
            0.5714285714285714,
            0.625,
            0.5555555555555556,
            0.5,
        ];
        let thr = [0.9, 0.8, 0.7, 0.55, 0.4, 0.35, 0.2, 0.1];
        assert_eq!(curve.len(), thr.len());
        for (i, &(r, p, th)) in curve.iter().enumerate() {
            assert_close(r, recall[i]);
            assert_close(p, precision[i]);
            assert_eq!(th, thr[i]);
        }
        assert!(pr_curve(&[0.1], &[false]).is_empty());
    }

    #[test]
    fn curves_put_nan_last() {
        let s = [0.5, f64::NAN, 0.7, f64::NAN];
        let l = [true, false, false, true];
        let roc = roc_curve(&s, &l);
        assert_eq!(roc.len(), 4);
        let last = roc[3];
        assert_eq!((last.0, last.1), (1.0, 1.0));
        assert!(last.2.is_nan());
        let pr = pr_curve(&s, &l);
        assert_eq!(pr.len(), 3);
        assert!(pr[2].2.is_nan());
        assert_eq!(pr[0].2, 0.7);
    }

    #[test]
    fn confusion_matrix_matches_sklearn() {
        let truth = [0, 1, 2, 2, 1, 0, 3, 3, 1, 2, 0, 7];
        let predicted = [0, 2, 2, 1, 1, 0, 3, 0, 1, 2, 4, 1];
        // The last pair has truth 7 >= n_classes and is ignored.
        let cm = ConfusionMatrix::new(&truth, &predicted, 6);
        // computed with sklearn.metrics.confusion_matrix(labels=range(6)) on the first 11 pairs
        let expected: Vec<Vec<u64>> = vec![
            vec![2, 0, 0, 0, 1, 0],
            vec![0, 2, 1, 0, 0, 0],
            vec![0, 1, 2, 0, 0, 0],
            vec![1, 0, 0, 1, 0, 0],
            vec![0, 0, 0, 0, 0, 0],
            vec![0, 0, 0, 0, 0, 0],
        ];
        assert_eq!(cm.counts, expected);
        let f1 = cm.per_class_f1();
        // computed with sklearn.metrics.f1_score(average=None, labels=range(5), zero_division=0)
        let expected_f1 = [
            0.6666666666666666,
            0.6666666666666666,
            0.6666666666666666,
            0.6666666666666666,
            0.0,
            0.0,
        ];
        assert_eq!(f1.len(), 6);
        for (a, b) in f1.iter().zip(expected_f1) {
            assert_close(*a, b);
        }
        // computed with sklearn.metrics.f1_score(average="macro", zero_division=0): classes
        // 0..=4 occur (4 only as a prediction), class 5 never does and is left out.
        assert_close(cm.macro_f1(), 0.5333333333333333);
        // computed with sklearn.metrics.accuracy_score
        assert_close(cm.accuracy(), 0.6363636363636364);
    }

    #[test]
    fn confusion_matrix_degenerate_inputs() {
        let cm = ConfusionMatrix::new(&[], &[], 0);
        assert!(cm.counts.is_empty());
        assert_eq!(cm.macro_f1(), 0.0);
        assert_eq!(cm.accuracy(), 0.0);
        assert!(cm.per_class_f1().is_empty());
        let cm = ConfusionMatrix::new(&[0, 1, 1], &[0], 2);
        assert_eq!(cm.counts, vec![vec![1, 0], vec![0, 0]]);
        assert_eq!(cm.macro_f1(), 1.0);
        // A hand-built ragged matrix must not panic.
        let ragged = ConfusionMatrix {
            counts: vec![vec![1], vec![2, 3, 4]],
        };
        assert_eq!(ragged.per_class_f1().len(), 2);
        assert!(ragged.accuracy().is_finite());
    }

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

    #[test]
    fn thresholds_for_targets() {
        // Precision by threshold (descending): 1, 1, .667, .75, .571, .625, .556, .5
        assert_eq!(
            threshold_for_precision(&SCORES_A, &LABELS_A, 0.7),
            Some(0.55)
        );
        assert_eq!(
            threshold_for_precision(&SCORES_A, &LABELS_A, 0.6),
            Some(0.35)
        );
        assert_eq!(
            threshold_for_precision(&SCORES_A, &LABELS_A, 0.5),
            Some(0.1)
        );
        assert_eq!(
            threshold_for_precision(&SCORES_A, &LABELS_A, 1.0),
            Some(0.8)
        );
        assert_eq!(
            threshold_for_precision(&[0.9, 0.1], &[false, true], 0.9),
            None
        );
        // Recall by threshold (descending): .2, .4, .4, .6, .8, 1, 1, 1
        assert_eq!(threshold_for_recall(&SCORES_A, &LABELS_A, 0.8), Some(0.4));
        assert_eq!(threshold_for_recall(&SCORES_A, &LABELS_A, 1.0), Some(0.35));
        assert_eq!(threshold_for_recall(&SCORES_A, &LABELS_A, 0.0), Some(0.9));
        assert_eq!(threshold_for_recall(&SCORES_A, &LABELS_A, 1.5), None);
        assert_eq!(threshold_for_recall(&[0.3], &[false], 0.5), None);
        assert_eq!(threshold_for_recall(&[0.3], &[true, false], 0.5), None);
        assert_eq!(threshold_for_precision(&[], &[], 0.5), None);
        assert_eq!(threshold_for_precision(&[0.3], &[true], f64::NAN), None);
        // A NaN score is never returned as a threshold.
        assert_eq!(
            threshold_for_recall(&[f64::NAN, 0.2], &[true, false], 1.0),
            None
        );
        assert_eq!(
            threshold_for_recall(&[f64::NAN, 0.2], &[true, true], 0.5),
            Some(0.2)
        );
    }

    /// Reference quadratic AUC: ties count one half, NaN lowest.
    fn brute_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
        let (mut num, mut pairs) = (0.0, 0.0);
        for (&sp, _) in scores.iter().zip(labels).filter(|(_, &l)| l) {
            for (&sn, _) in scores.iter().zip(labels).filter(|(_, &l)| !l) {
                pairs += 1.0;
                num += match score_cmp(sp, sn) {
                    Ordering::Greater => 1.0,
                    Ordering::Equal => 0.5,
                    Ordering::Less => 0.0,
                };
            }
        }
        if pairs == 0.0 {
            None
        } else {
            Some(num / pairs)
        }
    }

    #[test]
    fn random_inputs_agree_with_brute_force_and_at_threshold() {
        let mut rng = XorShift(42);
        for round in 0..300 {
            let n = (rng.next_u64() % 40) as usize;
            let levels = 1 + rng.next_u64() % 8;
            let scores: Vec<f64> = (0..n)
                .map(|_| match rng.next_u64() % 20 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => -0.0,
                    _ => (rng.next_u64() % levels) as f64 / levels as f64,
                })
                .collect();
            let labels: Vec<bool> = (0..n).map(|_| rng.next_u64() % 3 == 0).collect();
            match (roc_auc(&scores, &labels), brute_auc(&scores, &labels)) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "round {round}"),
                (a, b) => assert_eq!(a, b, "round {round}"),
            }
            // Every curve point agrees with the confusion counts at its threshold.
            let pos = labels.iter().filter(|&&l| l).count() as f64;
            for (r, p, th) in pr_curve(&scores, &labels) {
                let c = BinaryConfusion::at_threshold(&scores, &labels, th);
                assert!(
                    close(r, c.recall()) && close(p, c.precision()),
                    "round {round}"
                );
                assert!(close(r * pos, c.tp as f64));
            }
            for (f, t, th) in roc_curve(&scores, &labels).into_iter().skip(1) {
                let c = BinaryConfusion::at_threshold(&scores, &labels, th);
                assert!(close(t, c.recall()), "round {round}");
                assert!(close(f, ratio(c.fp, c.fp + c.tn)), "round {round}");
            }
            if let Some(ap) = average_precision(&scores, &labels) {
                assert!((0.0..=1.0).contains(&ap));
            }
            if let Some(th) = threshold_for_precision(&scores, &labels, 0.5) {
                let c = BinaryConfusion::at_threshold(&scores, &labels, th);
                assert!(c.precision() >= 0.5);
            }
            if let Some(th) = threshold_for_recall(&scores, &labels, 0.7) {
                let c = BinaryConfusion::at_threshold(&scores, &labels, th);
                assert!(c.recall() >= 0.7);
            }
        }
    }

    #[test]
    fn large_input_is_fast_enough() {
        let mut rng = XorShift(7);
        let n = 100_000;
        let labels: Vec<bool> = (0..n).map(|_| rng.unit() < 0.3).collect();
        let scores: Vec<f64> = labels
            .iter()
            .map(|&l| rng.unit() + if l { 0.3 } else { 0.0 })
            .collect();
        let auc = roc_auc(&scores, &labels).unwrap_or(f64::NAN);
        assert!(auc > 0.7 && auc < 0.9, "auc {auc}");
        assert_eq!(roc_curve(&scores, &labels).len(), n + 1);
        assert!(average_precision(&scores, &labels).is_some());
    }
}
