//! Metrics of a binary score: confusion counts at a threshold, ranking
//! metrics (ROC AUC, average precision) and their curves, and the
//! thresholds that reach a target precision or recall. All of them share
//! one sort of the scores into groups of equal score, with NaN lowest.

use std::cmp::Ordering;

use serde::Serialize;

use super::ratio;

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

    use crate::metrics::tests::{assert_close, close};
    use crate::testing::XorShift;

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
