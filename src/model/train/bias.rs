//! Per-class biases of a multi-class head, tuned for macro-F1.

/// Per-class biases `b` that maximise the macro-F1 of `argmax(z + b)` over
/// the rows of `logits` (row-major, `k` per row) against `truth`, starting
/// from no bias.
///
/// Coordinate ascent, exact in each coordinate: with the other biases
/// fixed, row `i` is predicted as class `c` exactly when `b_c` exceeds
/// `max_{j≠c}(z_ij + b_j) - z_ic`, so sorting those thresholds and sweeping
/// `b_c` across them visits every distinct outcome, with the confusion
/// counts updated one row at a time. Each chosen `b_c` lies midway between
/// two neighbouring thresholds. Sweeps repeat until none improves the
/// score (at most 50 rounds); the result is centred to sum to 0, which
/// does not change any prediction. Rows with a non-finite logit or a class
/// `>= k` are ignored.
pub(crate) fn tune_class_bias(logits: &[f64], k: usize, truth: &[usize]) -> Vec<f64> {
    let mut bias = vec![0.0; k];
    if k < 2 || logits.len() != truth.len() * k {
        return bias;
    }
    let rows: Vec<(&[f64], usize)> = logits
        .chunks_exact(k)
        .zip(truth)
        .filter(|(row, &y)| y < k && row.iter().all(|z| z.is_finite()))
        .map(|(row, &y)| (row, y))
        .collect();
    if rows.is_empty() {
        return bias;
    }
    let mut truth_count = vec![0i64; k];
    for &(_, y) in &rows {
        truth_count[y] += 1;
    }
    let macro_f1 = |tp: &[i64], pred: &[i64]| -> f64 {
        let (mut sum, mut present) = (0.0, 0usize);
        for c in 0..k {
            let d = pred[c] + truth_count[c];
            if d > 0 {
                sum += 2.0 * tp[c] as f64 / d as f64;
                present += 1;
            }
        }
        if present == 0 {
            0.0
        } else {
            sum / present as f64
        }
    };
    let score_of = |bias: &[f64]| -> f64 {
        let (mut tp, mut pred) = (vec![0i64; k], vec![0i64; k]);
        let mut shifted = vec![0.0; k];
        for &(row, y) in &rows {
            for ((s, z), b) in shifted.iter_mut().zip(row).zip(bias) {
                *s = z + b;
            }
            let p = argmax(&shifted);
            pred[p] += 1;
            if p == y {
                tp[p] += 1;
            }
        }
        macro_f1(&tp, &pred)
    };
    let mut best = score_of(&bias);
    let mut thresholds: Vec<(f64, usize, usize)> = Vec::with_capacity(rows.len());
    for _round in 0..50 {
        let before = best;
        for c in 0..k {
            // Every row predicted as its best other class, then rows move
            // to c in order of their threshold.
            let (mut tp, mut pred) = (vec![0i64; k], vec![0i64; k]);
            thresholds.clear();
            for &(row, y) in &rows {
                let mut other = usize::MAX;
                for j in (0..k).filter(|&j| j != c) {
                    if other == usize::MAX || row[j] + bias[j] > row[other] + bias[other] {
                        other = j;
                    }
                }
                pred[other] += 1;
                if other == y {
                    tp[other] += 1;
                }
                thresholds.push((row[other] + bias[other] - row[c], other, y));
            }
            thresholds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let first = thresholds[0].0;
            let last = thresholds[thresholds.len() - 1].0;
            let margin = ((last - first) * 1e-3).max(1e-6);
            let (mut top, mut top_b) = (macro_f1(&tp, &pred), first - margin);
            let mut i = 0;
            while i < thresholds.len() {
                let t = thresholds[i].0;
                while i < thresholds.len() && thresholds[i].0 == t {
                    let (_, from, y) = thresholds[i];
                    pred[from] -= 1;
                    pred[c] += 1;
                    if y == from {
                        tp[from] -= 1;
                    }
                    if y == c {
                        tp[c] += 1;
                    }
                    i += 1;
                }
                let score = macro_f1(&tp, &pred);
                if score > top {
                    top = score;
                    top_b = match thresholds.get(i) {
                        Some(next) => 0.5 * (t + next.0),
                        None => t + margin,
                    };
                }
            }
            if top > best + 1e-12 {
                bias[c] = top_b;
                best = score_of(&bias);
            }
        }
        if best <= before + 1e-12 {
            break;
        }
    }
    let mean = bias.iter().sum::<f64>() / k as f64;
    for b in &mut bias {
        *b -= mean;
    }
    bias
}

pub(crate) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}
