//! Metrics of a multi-class head: the confusion matrix and the per-class
//! and macro F1 and accuracy read from it.

use serde::Serialize;

use super::ratio;

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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::metrics::tests::assert_close;

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
}
