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
//!
//! The metrics are grouped by what they judge: `binary` holds the
//! confusion counts, ranking metrics, curves and target thresholds of a
//! binary score, `multiclass` the confusion matrix of a multi-class head,
//! and `reliability` the reliability bins and calibration error of a
//! probability.

mod binary;
mod multiclass;
mod reliability;

pub use binary::{
    average_precision, pr_curve, roc_auc, roc_curve, threshold_for_precision, threshold_for_recall,
    BinaryConfusion,
};
pub use multiclass::ConfusionMatrix;
pub use reliability::{expected_calibration_error, reliability_bins, ReliabilityBin};

/// `num / den` as `f64`, or 0 when `den` is 0.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Helpers shared by the tests of every kind of metric.
#[cfg(test)]
mod tests {
    pub(super) fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    pub(super) fn assert_close(a: f64, b: f64) {
        assert!(close(a, b), "{a} != {b}");
    }
}
