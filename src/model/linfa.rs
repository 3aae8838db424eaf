//! linfa's traits for naive Bayes on dense data, with the `linfa` feature:
//! [`NaiveBayesParams`] implements linfa's `Fit` and [`NaiveBayesModel`]
//! its `Predict`, for callers who use linfa's datasets and to compare the
//! arithmetic with linfa-bayes (see the tests). Each dense row is turned
//! into a sparse one and counted by a [`Head`], as in training.

use super::naive_bayes::{Head, HeadWeights, NaiveBayesParams};
use crate::error::{Error, Result, SettingError};
use crate::features::SparseVec;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, ArrayBase, Data, Ix2};

/// A naive Bayes classifier fitted on dense data through linfa's `Fit`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(docsrs, doc(cfg(feature = "linfa")))]
pub struct NaiveBayesModel {
    head: Head,
    weights: HeadWeights,
}

impl NaiveBayesModel {
    /// Joint log-likelihood of every class for each row (rows × classes).
    pub fn joint_log_likelihood<D: Data<Elem = f64>>(
        &self,
        x: &ArrayBase<D, Ix2>,
    ) -> ndarray::Array2<f64> {
        let k = self.head.spec.labels.len();
        let mut out = ndarray::Array2::zeros((x.nrows(), k));
        let mut jll = vec![0.0; k];
        for (i, row) in x.rows().into_iter().enumerate() {
            let sparse = dense_to_sparse(row.iter().copied());
            self.weights
                .joint_log_likelihood(&sparse, self.head.spec.n_features, &mut jll);
            for c in 0..k {
                out[[i, c]] = jll[c];
            }
        }
        out
    }
}

fn dense_to_sparse(row: impl Iterator<Item = f64>) -> SparseVec {
    let mut v = SparseVec::default();
    for (i, x) in row.enumerate() {
        if x != 0.0 {
            v.indices.push(i as u32);
            v.values.push(x as f32);
        }
    }
    v
}

#[cfg_attr(docsrs, doc(cfg(feature = "linfa")))]
impl<D, T> Fit<ArrayBase<D, Ix2>, T, Error> for NaiveBayesParams
where
    D: Data<Elem = f64>,
    T: AsSingleTargets<Elem = usize>,
{
    type Object = NaiveBayesModel;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<NaiveBayesModel> {
        let valid = self.check()?.0;
        let x = &dataset.records;
        let y = dataset.as_single_targets();
        if x.nrows() == 0 {
            return Err(Error::NoData("the dataset has no rows".into()));
        }
        if x.iter().any(|&v| !(v.is_finite() && v >= 0.0)) {
            return Err(SettingError::range(
                "naive Bayes counts",
                "finite and non-negative",
                "a negative or non-finite value",
            )
            .into());
        }
        let k = y.iter().copied().max().unwrap_or(0) + 1;
        let labels = (0..k.max(2)).map(|c| c.to_string()).collect();
        let mut head = Head::new("linfa", labels, valid.variant, valid.alpha, x.ncols())?;
        for (row, &c) in x.rows().into_iter().zip(y.iter()) {
            head.add(&dense_to_sparse(row.iter().copied()), c, 1.0);
        }
        // Classes absent from the targets get no prior mass, as in linfa.
        let weights = head.weights();
        Ok(NaiveBayesModel { head, weights })
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "linfa")))]
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for NaiveBayesModel {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        let jll = self.joint_log_likelihood(x);
        for (row, out) in jll.rows().into_iter().zip(y.iter_mut()) {
            let mut best = 0;
            for (c, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = c;
                }
            }
            *out = best;
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Variant;
    use linfa::prelude::*;
    use linfa_bayes::NaiveBayes as _;
    use ndarray::{array, Array2};

    fn toy() -> (Array2<f64>, Array1<usize>) {
        (
            array![
                [3., 0., 1., 0.],
                [2., 1., 0., 0.],
                [4., 0., 0., 1.],
                [0., 3., 1., 2.],
                [1., 2., 0., 3.],
                [0., 0., 2., 2.],
                [0., 1., 5., 0.],
            ],
            array![0, 0, 0, 1, 1, 2, 2],
        )
    }

    #[test]
    fn matches_linfa_bayes_multinomial() {
        let (x, y) = toy();
        let ds = Dataset::new(x.clone(), y);
        for alpha in [1.0, 0.5, 0.01] {
            let ours = NaiveBayesParams::new().alpha(alpha).fit(&ds).unwrap();
            let reference = linfa_bayes::MultinomialNb::params()
                .alpha(alpha)
                .fit(&ds)
                .unwrap();
            let ours_jll = ours.joint_log_likelihood(&x);
            let ref_jll = reference.joint_log_likelihood(x.view());
            for c in 0..3usize {
                let r = &ref_jll[&c];
                for i in 0..x.nrows() {
                    assert!(
                        (ours_jll[[i, c]] - r[i]).abs() < 1e-9,
                        "alpha {alpha} row {i} class {c}: {} vs {}",
                        ours_jll[[i, c]],
                        r[i]
                    );
                }
            }
            assert_eq!(ours.predict(&x), reference.predict(&x));
        }
    }

    #[test]
    fn complement_matches_sklearn() {
        // Computed with sklearn.naive_bayes.ComplementNB(alpha=1.0).fit(x, y)
        // followed by clf._joint_log_likelihood(x) on the toy data above.
        let (x, y) = toy();
        let model = NaiveBayesParams::new()
            .variant(Variant::Complement)
            .fit(&Dataset::new(x.clone(), y))
            .unwrap();
        let jll = model.joint_log_likelihood(&x);
        let expected = [
            [8.75572003307, 3.927406295768, 5.036519933638],
            [6.442085103889, 4.070507139408, 3.254912835874],
            [11.438452426188, 5.693847957011, 5.123531310627],
            [7.354741120267, 11.282929062549, 9.165064027107],
            [8.725287124419, 10.889886474439, 7.865781042976],
            [4.479053914054, 5.865348275174, 7.239773165254],
            [6.616546192392, 7.46384405278, 12.554255468655],
        ];
        for (i, row) in expected.iter().enumerate() {
            for (c, &e) in row.iter().enumerate() {
                assert!((jll[[i, c]] - e).abs() < 1e-9, "row {i} class {c}");
            }
        }
    }

    #[test]
    fn rejects_bad_alpha() {
        let (x, y) = toy();
        let ds = Dataset::new(x, y);
        for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                NaiveBayesParams::new().alpha(alpha).fit(&ds),
                Err(crate::Error::InvalidSetting(_))
            ));
        }
    }

    #[test]
    fn autotraits() {
        fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
        has_autotraits::<NaiveBayesModel>();
    }
}
