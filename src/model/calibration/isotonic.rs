//! Isotonic calibration: pool-adjacent-violators with a cap on the number
//! of knots, the piecewise-linear map through those knots, and the tilted
//! form that adds a small share of a Platt map so that every score keeps
//! its rank.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{class_weights, weighted_samples, Calibration};

/// Lowest probability an isotonic map returns; the highest is one minus it.
const MIN_PROBABILITY: f64 = 1e-4;

impl Calibration {
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
}

/// Checks isotonic knots: present, equal in number, finite, strictly
/// increasing in score, with probabilities in `[0, 1]` and non-decreasing.
pub(super) fn validate_knots(scores: &[f64], probabilities: &[f64]) -> Result<(), String> {
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
pub(super) fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::calibration::sigmoid;
    use crate::model::calibration::tests::{LABELS, SCORES};
    use crate::testing::XorShift;

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
}
