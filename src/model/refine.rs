//! Discriminative refinement of a head's naive Bayes weights, in the style
//! of NBSVM (Wang & Manning 2012, "Baselines and Bigrams").
//!
//! Naive Bayes gives every feature a log-count ratio `r_f` and adds them up
//! as if features were independent; they are not ("you" and "idiot" come
//! together), so frequent, correlated features are counted several times.
//! NBSVM fits a linear classifier on the features scaled by `r` and
//! interpolates its weights with naive Bayes'. Here the interpolation is a
//! prior: a logistic regression learns one factor `1 + u_f` per feature,
//! with an L2 penalty `λ/2 · Σ u_f²` pulling every factor back to 1, i.e.
//! to plain naive Bayes. A large `λ` keeps naive Bayes; a small one trusts
//! the data. The refined weight of feature `f` is `r_f (1 + u_f)`, so a
//! feature naive Bayes gave no weight (unseen, or shrunk to zero) stays at
//! zero, and scoring is still one weight per feature: nothing changes for
//! the model file or for scoring speed.
//!
//! A multi-class head gets the same with a softmax regression: one factor
//! per feature and class, on each feature's weights centered over the
//! classes (the softmax is unchanged by the centering, and the factors
//! then scale what tells the classes apart, not the large term complement
//! naive Bayes gives every feature in every class).
//!
//! The fit is stochastic gradient descent over the weighted rows in a
//! seeded order (deterministic, so a model rebuilds byte for byte), with
//! the step size `1 / (λ (t0 + t))` of Bottou's "optimal" schedule and the
//! weight vector kept as `scale · v`, so the penalty costs O(1) per step
//! and an update touches only the row's features.

use super::calibration::sigmoid;
use super::naive_bayes::HeadWeights;
use crate::error::SettingError;
use crate::features::SparseRef;
use crate::perturb::{perturb, targets, Family};
use crate::pipeline::Pipeline;
use serde::{Deserialize, Serialize};

/// Settings of the refinement (a head's `refine` table in a training
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refine {
    /// Strength of the pull toward naive Bayes, per training comment.
    pub lambda: f64,
    /// Passes over the training comments.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Also fit on a disguised copy of each comment: the two words that
    /// push the first refined head's positive label up most, rewritten the
    /// way evaders do ("1d10t", "i.d.i.o.t", "id*ot"; see
    /// [`crate::perturb`]). Without it the regression learns to trust whole
    /// words over character n-grams, and disguised words lose more of
    /// their weight than under plain naive Bayes. Binary heads only: a
    /// multi-class head is refined on the comments alone.
    #[serde(default = "default_augment")]
    pub augment: bool,
}

fn default_epochs() -> usize {
    5
}

fn default_augment() -> bool {
    true
}

/// The families the disguised copies are made with (those of them that
/// the pipeline's normalizer does not undo): the disguises evaders use to
/// get a known word past a filter ([`Family::DISGUISES`]), which the
/// normalizer folds on the words of its lexicon but not on other words, so
/// that the regression learns to keep weight on the character n-grams a
/// disguise leaves. Not [`Family::ALL`]: the typos are not among them. The
/// default model was built and measured with the disguises alone, and must
/// rebuild byte for byte from its configuration; whether typos would help
/// here is not measured.
const AUGMENT_FAMILIES: [Family; 11] = Family::DISGUISES;

/// A disguised copy of `text`: its two words with the largest positive
/// weight in `weights` (one per feature, as a binary head's scoring
/// weights), rewritten by a family chosen from `salt`. `None` when no word
/// qualifies.
pub(crate) fn disguise(
    pipeline: &Pipeline,
    text: &str,
    weights: &[f64],
    salt: u64,
) -> Option<String> {
    let analysis = pipeline.analyze(text);
    let mut per_token = vec![0.0f64; analysis.tokens.len()];
    pipeline
        .vectorizer()
        .visit(&analysis.normalized, text, &analysis.tokens, |t, f, v| {
            per_token[t] += f64::from(v) * weights[f as usize];
        });
    let spans = analysis.tokens.iter().map(|t| t.span.clone());
    let targets = targets(text, spans.zip(per_token));
    if targets.is_empty() {
        return None;
    }
    // Only disguises that change the features: the others would repeat
    // the comment.
    let changing = || {
        AUGMENT_FAMILIES
            .into_iter()
            .filter(|f| !f.undone_by(&pipeline.config().normalizer))
    };
    let family = changing()
        .nth((salt % changing().count() as u64) as usize)
        .expect("some families change the features");
    Some(perturb(text, &targets, family))
}

impl Refine {
    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`SettingError::OutOfRange`] naming the setting out of range.
    pub fn validate(&self) -> Result<(), SettingError> {
        // Below 1e-12 the first step (lambda^-1/4) overflows the f32
        // weights; above 1e3 the pull leaves naive Bayes as it was.
        if !(1e-12..=1e3).contains(&self.lambda) {
            return Err(SettingError::range(
                "refine.lambda",
                "between 1e-12 and 1e3",
                self.lambda,
            ));
        }
        if !(1..=100).contains(&self.epochs) {
            return Err(SettingError::range(
                "refine.epochs",
                "between 1 and 100",
                self.epochs,
            ));
        }
        Ok(())
    }
}

/// One training comment of a binary head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    pub x: SparseRef<'a>,
    pub positive: bool,
    pub weight: f64,
}

/// Refines a binary head's naive Bayes weights (`nb`: one bias, one weight
/// per feature) on `rows`, visiting them in an order drawn from `seed`.
pub(crate) fn refine(
    nb: &HeadWeights,
    rows: &[Row<'_>],
    settings: &Refine,
    seed: u64,
) -> HeadWeights {
    let r = &nb.weights;
    let total: f64 = rows.iter().map(|row| row.weight).sum();
    if rows.is_empty() || total.is_nan() || total <= 0.0 {
        return nb.clone();
    }
    // Weights averaging 1, so λ means the same whatever the source weights.
    let mean = total / rows.len() as f64;
    // The naive Bayes score of each row, the fixed part of its score.
    let offsets: Vec<f64> = rows
        .iter()
        .map(|row| {
            let mut s = [0.0];
            nb.joint_log_likelihood(row.x, r.len(), &mut s);
            s[0]
        })
        .collect();
    // Per feature, its naive Bayes weight and the learned `v`, side by side:
    // one cache line per feature touched, and half the memory as f32.
    let mut rv: Vec<[f32; 2]> = r.iter().map(|&x| [x as f32, 0.0]).collect();
    let mut sgd = Sgd::new(settings.lambda);
    let mut bias = 0.0f64;
    let mut order = Order::new(rows.len(), seed);
    for _ in 0..settings.epochs {
        for &i in order.shuffled() {
            let row = &rows[i];
            let eta = sgd.next_step();
            let y = if row.positive { 1.0 } else { -1.0 };
            let dot: f32 = row
                .x
                .iter()
                .map(|(f, x)| {
                    let [r, v] = rv[f as usize];
                    x * r * v
                })
                .sum();
            let dot = f64::from(dot);
            let score = offsets[i] + sgd.scale * dot + bias;
            // d/ds of the log loss -ln σ(y s) is -y σ(-y s).
            let g = y * sigmoid(-y * score) * row.weight / mean;
            sgd.shrink(eta, &mut rv);
            let step = (eta * g / sgd.scale) as f32;
            for (f, x) in row.x.iter() {
                let p = &mut rv[f as usize];
                p[1] += step * x * p[0];
            }
            // The constant term is not penalized; a smaller step keeps it
            // from swinging with each row.
            bias += 0.01 * eta * g;
        }
    }
    HeadWeights {
        bias: vec![nb.bias[0] + bias],
        weights: r
            .iter()
            .zip(&rv)
            .map(|(&rf, p)| rf * (1.0 + sgd.scale * f64::from(p[1])))
            .collect(),
    }
}

/// One training comment of a multi-class head, for one of its labels (a
/// comment with several labels gives a row per label, each with its share
/// of the weight: together their gradients are those of the soft target).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClassRow<'a> {
    pub x: SparseRef<'a>,
    pub class: usize,
    pub weight: f64,
}

/// Refines a multi-class head's naive Bayes weights (`nb`: one bias per
/// class, weights class-major over `n_features`) with a softmax regression
/// on `rows`, each class's factors pulled back to 1 as in [`refine`].
pub(crate) fn refine_classes(
    nb: &HeadWeights,
    n_features: usize,
    rows: &[ClassRow<'_>],
    settings: &Refine,
    seed: u64,
) -> HeadWeights {
    let k = nb.bias.len();
    let total: f64 = rows.iter().map(|row| row.weight).sum();
    if k < 2 || rows.is_empty() || total.is_nan() || total <= 0.0 {
        return nb.clone();
    }
    let mean = total / rows.len() as f64;
    // Each feature's weights minus their mean over the classes: the
    // softmax is the same, and the factors then scale what tells the
    // classes apart rather than a large shared term (complement naive
    // Bayes gives every feature a large weight in every class).
    let mut centered = nb.weights.clone();
    for f in 0..n_features {
        let m = (0..k).map(|c| nb.weights[c * n_features + f]).sum::<f64>() / k as f64;
        for c in 0..k {
            centered[c * n_features + f] -= m;
        }
    }
    let nb = &HeadWeights {
        bias: nb.bias.clone(),
        weights: centered,
    };
    // Feature-major: feature f's (weight, v) for every class side by side.
    let mut rv: Vec<[f32; 2]> = vec![[0.0, 0.0]; n_features * k];
    for c in 0..k {
        for f in 0..n_features {
            rv[f * k + c][0] = nb.weights[c * n_features + f] as f32;
        }
    }
    // Every row's naive Bayes score per class, row-major.
    let mut offsets = vec![0.0f64; rows.len() * k];
    for (row, out) in rows.iter().zip(offsets.chunks_mut(k)) {
        nb.joint_log_likelihood(row.x, n_features, out);
    }
    let mut sgd = Sgd::new(settings.lambda);
    let mut bias = vec![0.0f64; k];
    let mut dots = vec![0.0f32; k];
    let mut p = vec![0.0f64; k];
    let mut order = Order::new(rows.len(), seed);
    for _ in 0..settings.epochs {
        for &i in order.shuffled() {
            let row = &rows[i];
            let eta = sgd.next_step();
            dots.iter_mut().for_each(|d| *d = 0.0);
            for (f, x) in row.x.iter() {
                let at = f as usize * k;
                for (d, [r, v]) in dots.iter_mut().zip(&rv[at..at + k]) {
                    *d += x * r * v;
                }
            }
            // Softmax of the scores.
            let mut max = f64::NEG_INFINITY;
            for c in 0..k {
                p[c] = offsets[i * k + c] + sgd.scale * f64::from(dots[c]) + bias[c];
                max = max.max(p[c]);
            }
            let mut norm = 0.0;
            for q in p.iter_mut() {
                *q = (*q - max).exp();
                norm += *q;
            }
            sgd.shrink(eta, &mut rv);
            let w = row.weight / mean;
            // d/ds_c of the cross-entropy is p_c - [c = class].
            for (c, q) in p.iter_mut().enumerate() {
                let target = if c == row.class { 1.0 } else { 0.0 };
                *q = (target - *q / norm) * w;
                bias[c] += 0.01 * eta * *q;
            }
            for (f, x) in row.x.iter() {
                let at = f as usize * k;
                for (q, g) in rv[at..at + k].iter_mut().zip(&p) {
                    q[1] += (eta * g / sgd.scale) as f32 * x * q[0];
                }
            }
        }
    }
    let mut weights = vec![0.0f64; k * n_features];
    for c in 0..k {
        for f in 0..n_features {
            let [r, v] = rv[f * k + c];
            weights[c * n_features + f] =
                nb.weights[c * n_features + f] * (1.0 + sgd.scale * f64::from(v));
            debug_assert_eq!(r, nb.weights[c * n_features + f] as f32);
        }
    }
    HeadWeights {
        bias: nb.bias.iter().zip(&bias).map(|(a, b)| a + b).collect(),
        weights,
    }
}

/// Step sizes and the penalty of stochastic gradient descent, for a
/// learned vector kept as `scale · v` so the penalty costs O(1) a step.
struct Sgd {
    lambda: f64,
    /// Offset of the step count: Bottou's heuristic makes the first step
    /// that of a typical weight, 1 / λ^¼ (the losses' slopes are at most 1).
    t0: f64,
    t: f64,
    scale: f64,
}

impl Sgd {
    fn new(lambda: f64) -> Sgd {
        Sgd {
            lambda,
            t0: 1.0 / (lambda.powf(-0.25) * lambda),
            t: 0.0,
            scale: 1.0,
        }
    }

    /// The next step size, `1 / (λ (t0 + t))`.
    fn next_step(&mut self) -> f64 {
        let eta = 1.0 / (self.lambda * (self.t0 + self.t));
        self.t += 1.0;
        eta
    }

    /// Applies one step's penalty to `scale`, folding it into the second
    /// of each pair of `rv` before it gets too small.
    fn shrink(&mut self, eta: f64, rv: &mut [[f32; 2]]) {
        self.scale *= 1.0 - eta * self.lambda;
        if self.scale < 1e-6 {
            let scale = self.scale;
            rv.iter_mut()
                .for_each(|p| p[1] = (f64::from(p[1]) * scale) as f32);
            self.scale = 1.0;
        }
    }
}

/// The order rows are visited in: a Fisher–Yates shuffle with a xorshift
/// generator each epoch, from a seed.
struct Order {
    rows: Vec<usize>,
    state: u64,
}

impl Order {
    fn new(n: usize, seed: u64) -> Order {
        Order {
            rows: (0..n).collect(),
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// This epoch's order.
    fn shuffled(&mut self) -> &[usize] {
        let state = &mut self.state;
        for i in (1..self.rows.len()).rev() {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            let j = (*state % (i as u64 + 1)) as usize;
            self.rows.swap(i, j);
        }
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::SparseVec;

    /// The disguised copies use the six families the default model was
    /// built with, in that order (the salt picks by position), and never a
    /// typo.
    #[test]
    fn augmentation_keeps_its_families() {
        let normalizer = crate::normalize::NormalizerConfig::default();
        let used: Vec<Family> = AUGMENT_FAMILIES
            .into_iter()
            .filter(|f| !f.undone_by(&normalizer))
            .collect();
        assert_eq!(
            used,
            [
                Family::Leetspeak,
                Family::Separators,
                Family::Spaced,
                Family::Split,
                Family::Repeated,
                Family::Masked,
            ]
        );
        assert!(AUGMENT_FAMILIES.iter().all(|f| !Family::TYPOS.contains(f)));
    }

    fn sparse(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// Two features that always come together, and a third that tells the
    /// classes apart on its own. Naive Bayes counts the pair twice.
    fn data() -> (HeadWeights, Vec<SparseVec>, Vec<bool>) {
        let nb = HeadWeights {
            bias: vec![0.0],
            weights: vec![1.0, 1.0, 1.0, 0.0],
        };
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..400 {
            let positive = i % 2 == 0;
            let noisy = i % 10 < 3;
            let pair = positive != noisy;
            let mut x = vec![];
            if pair {
                x.extend([(0, 0.5), (1, 0.5)]);
            }
            if positive {
                x.push((2, 0.7));
            }
            x.push((3, 0.1));
            xs.push(sparse(&x));
            ys.push(positive);
        }
        (nb, xs, ys)
    }

    fn log_loss(w: &HeadWeights, xs: &[SparseVec], ys: &[bool]) -> f64 {
        let mut s = [0.0];
        xs.iter()
            .zip(ys)
            .map(|(x, &y)| {
                w.joint_log_likelihood(x, w.weights.len(), &mut s);
                -(if y { sigmoid(s[0]) } else { sigmoid(-s[0]) }).ln()
            })
            .sum::<f64>()
            / xs.len() as f64
    }

    #[test]
    fn refinement_lowers_the_loss_and_a_strong_prior_keeps_naive_bayes() {
        let (nb, xs, ys) = data();
        let rows: Vec<Row> = xs
            .iter()
            .zip(&ys)
            .map(|(x, &positive)| Row {
                x: x.view(),
                positive,
                weight: 1.0,
            })
            .collect();
        let loose = refine(
            &nb,
            &rows,
            &Refine {
                lambda: 1e-4,
                epochs: 20,
                augment: false,
            },
            1,
        );
        assert!(log_loss(&loose, &xs, &ys) < log_loss(&nb, &xs, &ys) - 0.05);
        // The feature that decides alone gains weight over the noisy pair.
        assert!(loose.weights[2] > loose.weights[0], "{:?}", loose.weights);
        // Naive Bayes gave feature 3 no weight, and it keeps none.
        assert_eq!(loose.weights[3], 0.0);
        let tight = refine(
            &nb,
            &rows,
            &Refine {
                lambda: 1e3,
                epochs: 5,
                augment: false,
            },
            1,
        );
        for (a, b) in tight.weights.iter().zip(&nb.weights) {
            assert!((a - b).abs() < 0.01, "{:?}", tight.weights);
        }
        // The same seed gives the same weights, bit for bit.
        let again = refine(
            &nb,
            &rows,
            &Refine {
                lambda: 1e-4,
                epochs: 20,
                augment: false,
            },
            1,
        );
        assert_eq!(again, loose);
    }

    fn softmax_loss(w: &HeadWeights, n: usize, xs: &[SparseVec], ys: &[usize]) -> f64 {
        let mut s = vec![0.0; w.bias.len()];
        xs.iter()
            .zip(ys)
            .map(|(x, &y)| {
                w.joint_log_likelihood(x, n, &mut s);
                let z: f64 = s.iter().map(|v| v.exp()).sum();
                z.ln() - s[y]
            })
            .sum::<f64>()
            / xs.len() as f64
    }

    #[test]
    fn multi_class_refinement_lowers_the_loss_and_a_strong_prior_keeps_the_softmax() {
        // Three classes over four features: the binary data's positive
        // rows are class 1, the others split between classes 0 and 2 by
        // feature 3, which naive Bayes weighs too little.
        let (_, xs, positive) = data();
        let ys: Vec<usize> = xs
            .iter()
            .zip(&positive)
            .enumerate()
            .map(|(i, (_, &p))| {
                if p {
                    1
                } else if i % 4 == 1 {
                    0
                } else {
                    2
                }
            })
            .collect();
        let n = 4;
        let nb = HeadWeights {
            bias: vec![0.0, 0.0, 0.0],
            // Class-major, with a large shared term per feature, as
            // complement naive Bayes gives.
            weights: vec![
                5.0, 5.0, 5.0, 5.1, //
                6.0, 6.0, 6.0, 5.0, //
                5.0, 5.0, 5.0, 4.9,
            ],
        };
        let rows: Vec<ClassRow> = xs
            .iter()
            .zip(&ys)
            .map(|(x, &class)| ClassRow {
                x: x.view(),
                class,
                weight: 1.0,
            })
            .collect();
        let loose = Refine {
            lambda: 1e-4,
            epochs: 20,
            augment: false,
        };
        let refined = refine_classes(&nb, n, &rows, &loose, 1);
        assert!(
            softmax_loss(&refined, n, &xs, &ys) < softmax_loss(&nb, n, &xs, &ys) - 0.05,
            "{refined:?}"
        );
        let tight = Refine {
            lambda: 1e3,
            epochs: 3,
            augment: false,
        };
        let kept = refine_classes(&nb, n, &rows, &tight, 1);
        let (a, b) = (
            softmax_loss(&kept, n, &xs, &ys),
            softmax_loss(&nb, n, &xs, &ys),
        );
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }

    #[test]
    fn settings_are_checked() {
        assert!(Refine {
            lambda: 1e-5,
            epochs: 5,
            augment: false
        }
        .validate()
        .is_ok());
        assert!(Refine {
            lambda: 0.0,
            epochs: 5,
            augment: false
        }
        .validate()
        .is_err());
        assert!(Refine {
            lambda: f64::NAN,
            epochs: 5,
            augment: false
        }
        .validate()
        .is_err());
        assert!(Refine {
            lambda: 1.0,
            epochs: 0,
            augment: false
        }
        .validate()
        .is_err());
    }
}
