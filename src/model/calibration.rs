//! Probability calibration maps stored in a model file. Naive Bayes log-odds
//! rank comments well but are badly over-confident as probabilities, so a
//! model carries a [`Calibration`] (Platt scaling or isotonic regression)
//! for its binary incivility score and a [`Temperature`] for its
//! multi-class head. Both are fitted on held-out scores, serialized with the
//! model, checked with `validate` when the model is loaded, and applied at
//! scoring time without ever producing NaN.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

/// Lowest probability an isotonic map returns; the highest is one minus it.
const MIN_PROBABILITY: f64 = 1e-4;

/// Largest number of Newton iterations of the Platt fit.
const PLATT_MAX_ITERATIONS: usize = 100;

/// Bounds of the temperature search.
const MIN_TEMPERATURE: f64 = 1e-3;
/// Upper bound of the temperature search.
const MAX_TEMPERATURE: f64 = 1e4;

/// The logistic function, without overflow for any input; NaN stays NaN.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
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

    /// Isotonic regression (pool-adjacent-violators) of the labels on the
    /// scores, with weights (`None` = all 1); equal scores are pooled first.
    ///
    /// Each pooled block becomes one knot, or two (its lowest and highest
    /// score) when it spans several scores, so the map is flat inside a block
    /// and linear between blocks. While there are more than `max_knots`
    /// knots (a `max_knots` below 2 counts as 2), the two adjacent blocks
    /// whose merge adds the least weighted squared error are merged; merged
    /// values stay between their neighbours, so knot scores stay strictly
    /// increasing and probabilities non-decreasing. Probabilities are clipped
    /// to `[1e-4, 1 - 1e-4]`.
    ///
    /// Samples with a non-finite score or a weight that is not finite and
    /// positive are skipped. Returns `None` if a class is absent after that,
    /// or if the lengths of `scores`, `labels` and `weights` differ.
    pub fn fit_isotonic(
        scores: &[f64],
        labels: &[bool],
        weights: Option<&[f64]>,
        max_knots: usize,
    ) -> Option<Calibration> {
        let mut samples = weighted_samples(scores, labels, weights)?;
        let (pos, neg) = class_weights(&samples);
        if pos <= 0.0 || neg <= 0.0 {
            return None;
        }
        samples.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));

        // Pool equal scores, then pool adjacent violators.
        let mut blocks: Vec<Block> = Vec::new();
        for &(s, l, w) in &samples {
            let wy = if l { w } else { 0.0 };
            match blocks.last_mut() {
                Some(last) if last.hi == s => {
                    last.w += w;
                    last.wy += wy;
                }
                _ => blocks.push(Block {
                    lo: s,
                    hi: s,
                    w,
                    wy,
                }),
            }
            while blocks.len() >= 2 {
                let n = blocks.len();
                if blocks[n - 2].value() < blocks[n - 1].value() {
                    break;
                }
                if let Some(right) = blocks.pop() {
                    if let Some(left) = blocks.last_mut() {
                        left.absorb(&right);
                    }
                }
            }
        }

        let blocks = compress(blocks, max_knots.max(2));
        let mut knot_scores = Vec::with_capacity(2 * blocks.len());
        let mut probabilities = Vec::with_capacity(2 * blocks.len());
        for block in &blocks {
            let p = block.value().clamp(MIN_PROBABILITY, 1.0 - MIN_PROBABILITY);
            knot_scores.push(block.lo);
            probabilities.push(p);
            if block.hi > block.lo {
                knot_scores.push(block.hi);
                probabilities.push(p);
            }
        }
        Some(Calibration::Isotonic {
            scores: knot_scores,
            probabilities,
        })
    }

    /// This isotonic map tilted by `share` of `platt` (see
    /// [`Calibration::Tilted`]); `None` unless `self` is isotonic, `platt` is
    /// a Platt map with a positive finite slope and `share` is in `(0, 1)`.
    pub fn tilted(self, platt: &Calibration, share: f64) -> Option<Calibration> {
        match (self, platt) {
            (
                Calibration::Isotonic {
                    scores,
                    probabilities,
                },
                &Calibration::Platt { a, b },
            ) if a > 0.0 && a.is_finite() && b.is_finite() && share > 0.0 && share < 1.0 => {
                Some(Calibration::Tilted {
                    scores,
                    probabilities,
                    a,
                    b,
                    share,
                })
            }
            _ => None,
        }
    }

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
    pub fn validate(&self) -> Result<(), String> {
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

/// Checks isotonic knots: present, equal in number, finite, strictly
/// increasing in score, with probabilities in `[0, 1]` and non-decreasing.
fn validate_knots(scores: &[f64], probabilities: &[f64]) -> Result<(), String> {
    if scores.is_empty() {
        return Err("isotonic calibration has no knots".to_string());
    }
    if scores.len() != probabilities.len() {
        return Err(format!(
            "isotonic calibration has {} knot scores but {} probabilities",
            scores.len(),
            probabilities.len()
        ));
    }
    for (i, (&s, &p)) in scores.iter().zip(probabilities).enumerate() {
        if !s.is_finite() {
            return Err(format!("isotonic knot {i} has a non-finite score: {s}"));
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(format!(
                "isotonic knot {i} has a probability outside [0, 1]: {p}"
            ));
        }
    }
    for (i, pair) in scores.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(format!(
                "isotonic knot scores are not strictly increasing at knot {}",
                i + 1
            ));
        }
    }
    for (i, pair) in probabilities.windows(2).enumerate() {
        if pair[1] < pair[0] {
            return Err(format!(
                "isotonic knot probabilities decrease at knot {}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Linear interpolation through `(xs, ys)`, clamped outside; uses only the
/// common prefix of the two slices and never panics, even on unsorted knots.
/// NaN when there are no knots.
fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let n = xs.len().min(ys.len());
    let (xs, ys) = (&xs[..n], &ys[..n]);
    let i = xs.partition_point(|&k| k <= x);
    match (
        i.checked_sub(1).and_then(|j| xs.get(j).zip(ys.get(j))),
        xs.get(i).zip(ys.get(i)),
    ) {
        (None, None) => f64::NAN,
        (None, Some((_, &y))) | (Some((_, &y)), None) => y,
        (Some((&x0, &y0)), Some((&x1, &y1))) => {
            // Halving first keeps spans near f64::MAX from overflowing.
            let frac = (0.5 * x - 0.5 * x0) / (0.5 * x1 - 0.5 * x0);
            // Unsorted or duplicate knots can still give NaN or inf: use the
            // left knot then.
            let frac = if frac.is_finite() {
                frac.clamp(0.0, 1.0)
            } else {
                0.0
            };
            y0 + frac * (y1 - y0)
        }
    }
}

/// A pooled run of consecutive distinct scores with one fitted value.
#[derive(Debug, Clone, Copy)]
struct Block {
    /// Lowest score in the block.
    lo: f64,
    /// Highest score in the block.
    hi: f64,
    /// Total weight.
    w: f64,
    /// Total weight of the positives.
    wy: f64,
}

impl Block {
    /// The block's fitted probability (weighted positive rate).
    fn value(&self) -> f64 {
        self.wy / self.w
    }

    /// Number of knots the block contributes.
    fn knots(&self) -> usize {
        if self.hi > self.lo {
            2
        } else {
            1
        }
    }

    /// Pools `right`, the next block up, into this one.
    fn absorb(&mut self, right: &Block) {
        self.hi = right.hi;
        self.w += right.w;
        self.wy += right.wy;
    }
}

/// Increase of the weighted squared error when two blocks are pooled.
fn merge_cost(left: &Block, right: &Block) -> f64 {
    let d = left.value() - right.value();
    left.w * right.w / (left.w + right.w) * d * d
}

/// A candidate merge in the compression heap, cheapest first.
#[derive(Debug)]
struct Candidate {
    cost: f64,
    left: usize,
    right: usize,
    left_version: u64,
    right_version: u64,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    /// Reversed, so that `BinaryHeap` pops the cheapest (then leftmost).
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.left.cmp(&self.left))
    }
}

/// Greedily pools adjacent blocks, cheapest first, until they give at most
/// `max_knots` knots (`max_knots >= 2`). O(m log m) for m blocks.
fn compress(blocks: Vec<Block>, max_knots: usize) -> Vec<Block> {
    let mut knots: usize = blocks.iter().map(Block::knots).sum();
    if knots <= max_knots {
        return blocks;
    }
    let n = blocks.len();
    let mut blocks: Vec<Option<Block>> = blocks.into_iter().map(Some).collect();
    let mut version = vec![0u64; n];
    let mut prev: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
    let mut next: Vec<Option<usize>> = (0..n).map(|i| Some(i + 1).filter(|&j| j < n)).collect();
    let mut heap = BinaryHeap::new();
    let candidate = |blocks: &[Option<Block>], version: &[u64], l: usize, r: usize| {
        let (lb, rb) = (
            blocks.get(l).copied().flatten()?,
            blocks.get(r).copied().flatten()?,
        );
        Some(Candidate {
            cost: merge_cost(&lb, &rb),
            left: l,
            right: r,
            left_version: *version.get(l)?,
            right_version: *version.get(r)?,
        })
    };
    for l in 0..n.saturating_sub(1) {
        heap.extend(candidate(&blocks, &version, l, l + 1));
    }
    while knots > max_knots {
        let Some(c) = heap.pop() else { break };
        let fresh = version.get(c.left) == Some(&c.left_version)
            && version.get(c.right) == Some(&c.right_version);
        let (Some(Some(mut left)), Some(Some(right))) =
            (blocks.get(c.left).copied(), blocks.get(c.right).copied())
        else {
            continue;
        };
        if !fresh {
            continue;
        }
        knots = knots + 2 - left.knots() - right.knots();
        left.absorb(&right);
        let after = next.get(c.right).copied().flatten();
        if let Some(slot) = blocks.get_mut(c.right) {
            *slot = None;
        }
        if let Some(slot) = blocks.get_mut(c.left) {
            *slot = Some(left);
        }
        if let Some(v) = version.get_mut(c.left) {
            *v += 1;
        }
        if let Some(slot) = next.get_mut(c.left) {
            *slot = after;
        }
        if let Some(slot) = after.and_then(|a| prev.get_mut(a)) {
            *slot = Some(c.left);
        }
        if let Some(before) = prev.get(c.left).copied().flatten() {
            heap.extend(candidate(&blocks, &version, before, c.left));
        }
        if let Some(after) = after {
            heap.extend(candidate(&blocks, &version, c.left, after));
        }
    }
    blocks.into_iter().flatten().collect()
}

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
    pub fn validate(&self) -> Result<(), String> {
        if self.t.is_finite() && self.t > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "temperature must be finite and positive, got {}",
                self.t
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::XorShift;

    fn platt_params(c: &Calibration) -> (f64, f64) {
        match c {
            Calibration::Platt { a, b } => (*a, *b),
            other => panic!("expected a platt calibration, not {other:?}"),
        }
    }

    #[test]
    fn a_tilted_isotonic_map_keeps_the_ranking_and_stays_close() {
        let mut rng = XorShift(11);
        let scores: Vec<f64> = (0..2000).map(|_| 4.0 * rng.normal()).collect();
        let labels: Vec<bool> = scores
            .iter()
            .map(|&s| rng.unit() < sigmoid(0.7 * s - 0.3))
            .collect();
        let iso = Calibration::fit_isotonic(&scores, &labels, None, 20).unwrap();
        let platt = Calibration::fit_platt(&scores, &labels, None).unwrap();
        let tilted = iso.clone().tilted(&platt, 0.01).unwrap();
        tilted.validate().unwrap();
        // Scores as far out as the Platt map still separates (beyond, both
        // saturate to the same float).
        let grid: Vec<f64> = (-400..=400).map(|i| f64::from(i) * 0.025).collect();
        let mut ties = 0;
        for pair in grid.windows(2) {
            let (p, q) = (tilted.apply(pair[0]), tilted.apply(pair[1]));
            assert!(
                q > p || pair[0] == pair[1],
                "{} -> {p}, {} -> {q}",
                pair[0],
                pair[1]
            );
            ties += usize::from(iso.apply(pair[0]) == iso.apply(pair[1]));
        }
        assert!(ties > 100, "the isotonic map alone should tie many scores");
        for &s in grid
            .iter()
            .chain(&[-1e300, 1e300, f64::INFINITY, f64::NEG_INFINITY])
        {
            assert!((tilted.apply(s) - iso.apply(s)).abs() <= 0.01 + 1e-12);
            assert!((0.0..=1.0).contains(&tilted.apply(s)));
        }
        // Only an isotonic map with a usable Platt map and share tilts.
        assert!(platt.clone().tilted(&platt, 0.01).is_none());
        assert!(iso.clone().tilted(&iso, 0.01).is_none());
        assert!(iso.clone().tilted(&platt, 1.0).is_none());
        let flat = Calibration::Platt { a: 0.0, b: 1.0 };
        assert!(iso.tilted(&flat, 0.01).is_none());
    }

    fn knots(c: &Calibration) -> (&[f64], &[f64]) {
        match c {
            Calibration::Isotonic {
                scores,
                probabilities,
            } => (scores, probabilities),
            other => panic!("expected an isotonic calibration, not {other:?}"),
        }
    }

    const SCORES: [f64; 12] = [
        -2.0, -1.5, -1.0, -0.5, 0.0, 0.3, 0.8, 1.2, 2.0, 2.5, -0.2, 1.0,
    ];
    const LABELS: [bool; 12] = [
        false, false, true, false, false, true, false, true, true, true, true, false,
    ];

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

    #[test]
    fn isotonic_matches_sklearn() {
        let c = Calibration::fit_isotonic(&SCORES, &LABELS, None, 200).expect("both classes");
        let (xs, ps) = knots(&c);
        // computed with sklearn.isotonic.IsotonicRegression(y_min=1e-4, y_max=1-1e-4).X_thresholds_
        assert_eq!(xs, &[-2.0, -1.5, -1.0, 1.0, 1.2, 2.5]);
        // computed with sklearn.isotonic.IsotonicRegression(y_min=1e-4, y_max=1-1e-4).y_thresholds_
        let expected = [1e-4, 1e-4, 3.0 / 7.0, 3.0 / 7.0, 0.9999, 0.9999];
        for (p, e) in ps.iter().zip(expected) {
            assert!((p - e).abs() < 1e-12);
        }
        let at = [-3.0, -1.2, -0.75, 0.1, 0.5, 1.1, 1.6, 2.2, 3.0];
        // computed with sklearn.isotonic.IsotonicRegression(y_min=1e-4, y_max=1-1e-4,
        // out_of_bounds="clip").predict
        let predicted = [
            0.0001,
            0.25718285714285716,
            0.42857142857142855,
            0.42857142857142855,
            0.42857142857142855,
            0.7142357142857145,
            0.9999,
            0.9999,
            0.9999,
        ];
        for (&x, &e) in at.iter().zip(&predicted) {
            assert!((c.apply(x) - e).abs() < 1e-12, "at {x}");
        }
        assert!(c.validate().is_ok());
    }

    #[test]
    fn isotonic_is_monotone_bounded_and_compressed() {
        let mut rng = XorShift(99);
        for round in 0..60 {
            let n = 2 + (rng.next_u64() % 3000) as usize;
            let levels = 1 + rng.next_u64() % 500;
            let scores: Vec<f64> = (0..n)
                .map(|_| (rng.next_u64() % levels) as f64 * 0.01 - 2.0)
                .collect();
            let labels: Vec<bool> = scores
                .iter()
                .map(|&s| rng.unit() < sigmoid(2.0 * s))
                .collect();
            let weights: Vec<f64> = (0..n).map(|_| 0.5 + rng.unit()).collect();
            let max_knots = 2 + (rng.next_u64() % 60) as usize;
            let Some(c) = Calibration::fit_isotonic(&scores, &labels, Some(&weights), max_knots)
            else {
                assert!(labels.iter().all(|&l| l) || labels.iter().all(|&l| !l));
                continue;
            };
            assert!(c.validate().is_ok(), "round {round}: {:?}", c.validate());
            let (xs, ps) = knots(&c);
            assert!(xs.len() <= max_knots, "round {round}: {} knots", xs.len());
            assert!(ps
                .iter()
                .all(|p| (MIN_PROBABILITY..=1.0 - MIN_PROBABILITY).contains(p)));
            let mut last = 0.0;
            for i in 0..=400 {
                let p = c.apply(-3.0 + i as f64 * 0.015);
                assert!((0.0..=1.0).contains(&p));
                assert!(p >= last, "round {round}: not monotone");
                last = p;
            }
        }
    }

    #[test]
    fn isotonic_compression_keeps_the_shape() {
        let mut rng = XorShift(2024);
        let scores: Vec<f64> = (0..20_000).map(|_| 4.0 * rng.normal()).collect();
        let labels: Vec<bool> = scores.iter().map(|&s| rng.unit() < sigmoid(s)).collect();
        let full = Calibration::fit_isotonic(&scores, &labels, None, usize::MAX).expect("fits");
        let small = Calibration::fit_isotonic(&scores, &labels, None, 20).expect("fits");
        assert!(knots(&small).0.len() <= 20);
        for i in 0..100 {
            let s = -6.0 + 0.12 * i as f64;
            assert!((full.apply(s) - small.apply(s)).abs() < 0.15, "at {s}");
            assert!((small.apply(s) - sigmoid(s)).abs() < 0.15, "at {s}");
        }
        // max_knots below 2 counts as 2.
        let tiny = Calibration::fit_isotonic(&scores, &labels, None, 0).expect("fits");
        assert!(knots(&tiny).0.len() <= 2);
    }

    #[test]
    fn isotonic_degenerate_inputs() {
        assert_eq!(Calibration::fit_isotonic(&[], &[], None, 10), None);
        assert_eq!(Calibration::fit_isotonic(&[1.0], &[true], None, 10), None);
        assert_eq!(
            Calibration::fit_isotonic(&[1.0, 2.0], &[true, false], Some(&[1.0]), 10),
            None
        );
        // All scores equal: one knot at the base rate.
        let c = Calibration::fit_isotonic(&[0.0, -0.0, 0.0], &[true, false, false], None, 10)
            .expect("both classes");
        let (xs, ps) = knots(&c);
        assert_eq!(xs.len(), 1);
        assert!((ps[0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((c.apply(5.0) - 1.0 / 3.0).abs() < 1e-12);
        // Infinite scores are skipped rather than becoming knots.
        let c = Calibration::fit_isotonic(
            &[f64::NEG_INFINITY, 0.0, 1.0, f64::INFINITY],
            &[false, false, true, true],
            None,
            10,
        )
        .expect("both classes");
        assert!(c.validate().is_ok());
    }

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
            let message = c.validate().expect_err("should be rejected");
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
