//! The ROC and precision-recall figures: each model's curve, thinned to a
//! size an SVG can carry, with its operating point at the policy threshold.

use super::{
    binary_caption, draw_legend, fmt_opt, line_legend, unit_chart, DrawResult, Series, GRAY,
};
use civility::evaluate::BinaryReport;
use plotters::coord::Shift;
use plotters::prelude::*;

/// At most this many points of a curve are drawn: a curve of 100k points
/// drawn as is makes a multi-megabyte SVG and looks no different.
const MAX_CURVE_POINTS: usize = 2000;

/// Each model's curve (thinned) with its legend label, then its operating
/// point at the policy threshold; models without a curve are skipped.
fn draw_curves<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    series: &[Series<'_>],
    curve: impl Fn(&BinaryReport) -> Vec<(f64, f64)>,
    label: impl Fn(&Series<'_>) -> String,
    dot: impl Fn(&BinaryReport) -> Option<(f64, f64)>,
) -> DrawResult<DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let mut dots = Vec::new();
    for s in series {
        let points = curve(s.report);
        if points.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(
                thin(&points, MAX_CURVE_POINTS),
                s.color.stroke_width(2),
            ))?
            .label(label(s))
            .legend(line_legend(s.color, 3));
        if let Some(p) = dot(s.report) {
            dots.push((p, s.color));
        }
    }
    let thresholds: Vec<f64> = series.iter().map(|s| s.report.threshold).collect();
    draw_operating_points(chart, &dots, &thresholds)
}

/// The operating point at the policy threshold, on one curve, and a legend
/// entry saying what the dots are.
fn draw_operating_points<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: &[((f64, f64), RGBColor)],
    thresholds: &[f64],
) -> DrawResult<DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    if points.is_empty() {
        return Ok(());
    }
    let mut ts: Vec<String> = thresholds.iter().map(|t| format!("{t:.2}")).collect();
    ts.dedup();
    let label = format!("at the policy threshold ({})", ts.join(" / "));
    chart
        .draw_series(points.iter().map(|&(p, c)| {
            EmptyElement::at(p)
                + Circle::new((0, 0), 6, c.filled())
                + Circle::new((0, 0), 6, BLACK.stroke_width(1))
        }))?
        .label(label)
        .legend(|(x, y)| {
            EmptyElement::at((x + 11, y))
                + Circle::new((0, 0), 5, GRAY.filled())
                + Circle::new((0, 0), 5, BLACK.stroke_width(1))
        });
    Ok(())
}

pub(super) fn draw_roc<DB: DrawingBackend>(
    head: &str,
    series: &[Series<'_>],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let caption = binary_caption(head, "ROC curve", "ROC AUC", series, |b| b.roc_auc);
    let mut chart = unit_chart(
        root,
        &caption,
        "false positive rate",
        "true positive rate (recall)",
    )?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            GRAY.stroke_width(1),
        ))?
        .label("chance")
        .legend(line_legend(GRAY, 1));
    draw_curves(
        &mut chart,
        series,
        |b| b.roc_curve.iter().map(|&(x, y, _)| (x, y)).collect(),
        |s| format!("{}, AUC {}", s.name, fmt_opt(s.report.roc_auc)),
        |b| {
            let c = &b.confusion;
            let negatives = c.fp + c.tn;
            (negatives > 0).then(|| (c.fp as f64 / negatives as f64, b.recall))
        },
    )?;
    draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
}

pub(super) fn draw_pr<DB: DrawingBackend>(
    head: &str,
    series: &[Series<'_>],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let caption = binary_caption(head, "precision-recall", "PR AUC", series, |b| b.pr_auc);
    let mut chart = unit_chart(root, &caption, "recall", "precision")?;
    // Precision of a classifier that flags at random: the positive rate.
    let mut rates: Vec<f64> = series
        .iter()
        .filter(|s| s.n > 0)
        .map(|s| s.report.positives as f64 / s.n as f64)
        .collect();
    rates.dedup();
    for (i, &rate) in rates.iter().enumerate() {
        let anno = chart.draw_series(LineSeries::new(
            [(0.0, rate), (1.0, rate)],
            GRAY.stroke_width(1),
        ))?;
        if i == 0 {
            anno.label(format!("chance (positive rate {rate:.2})"))
                .legend(line_legend(GRAY, 1));
        }
    }
    draw_curves(
        &mut chart,
        series,
        |b| pr_steps(&b.pr_curve),
        |s| format!("{}, AP {}", s.name, fmt_opt(s.report.pr_auc)),
        |b| (b.confusion.tp + b.confusion.fp > 0).then_some((b.recall, b.precision)),
    )?;
    draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)
}

/// The PR curve as the step function whose area is the average precision
/// (`sum (R_k - R_{k-1}) P_k`): precision `P_k` over recall
/// `(R_{k-1}, R_k]`, from recall 0. Points that add no recall (only
/// negatives at that score) add nothing to the area and are left out;
/// drawn, they would be spikes down and back up at one recall.
fn pr_steps(curve: &[(f64, f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(curve.len() * 2);
    let mut prev_recall = 0.0;
    for &(recall, precision, _) in curve {
        if recall > prev_recall {
            out.push((prev_recall, precision));
            out.push((recall, precision));
            prev_recall = recall;
        }
    }
    out
}

// ------------------------------------------------------------ thinning

/// At most about `max` points with the same look as `points` at plot
/// resolution: the x range [0, 1] is cut into `max / 4` columns, each run
/// of consecutive points in one column keeps its first, lowest, highest
/// and last point, in their order (M4 aggregation, Jugel et al. 2014).
/// A ROC staircase's vertical and horizontal stretches survive; detail
/// narrower than a column (under 2 pixels here) does not. Should x not be
/// monotone, so that runs are many, a uniform stride thins the rest.
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let max = max.max(8);
    if points.len() <= max {
        return points;
    }
    let columns = (max / 4) as f64;
    let column = |x: f64| (x.clamp(0.0, 1.0) * columns).floor().min(columns - 1.0) as i64;
    let mut out = Vec::with_capacity(max);
    let mut start = 0;
    while start < points.len() {
        let c = column(points[start].0);
        let mut end = start + 1;
        while end < points.len() && column(points[end].0) == c {
            end += 1;
        }
        let run = &points[start..end];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in run.iter().enumerate() {
            if p.1 < run[lo].1 {
                lo = i;
            }
            if p.1 > run[hi].1 {
                hi = i;
            }
        }
        let mut keep = [0, lo, hi, run.len() - 1];
        keep.sort_unstable();
        let mut last = None;
        for i in keep {
            if last != Some(i) {
                out.push(run[i]);
                last = Some(i);
            }
        }
        start = end;
    }
    if out.len() > max {
        let step = out.len().div_ceil(max - 1);
        let last = out[out.len() - 1];
        out = out.into_iter().step_by(step).collect();
        if out.last() != Some(&last) {
            out.push(last);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 100k-point staircase like a ROC curve of 100k distinct scores.
    fn staircase(n: usize) -> Vec<(f64, f64)> {
        let mut points = vec![(0.0, 0.0)];
        let (mut x, mut y) = (0.0, 0.0);
        // Deterministic pseudo-random steps right or up.
        let mut state = 12345u64;
        for _ in 0..n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 33) % 3 == 0 {
                x += 1.0;
            } else {
                y += 1.0;
            }
            points.push((x, y));
        }
        points.iter().map(|&(a, b)| (a / x, b / y)).collect()
    }

    #[test]
    fn thin_keeps_short_curves_as_they_are() {
        let points = vec![(0.0, 0.0), (0.5, 0.7), (1.0, 1.0)];
        assert_eq!(thin(&points, 2000), points);
    }

    #[test]
    fn thin_bounds_a_large_curve_and_keeps_its_shape() {
        let points = staircase(100_000);
        let thinned = thin(&points, MAX_CURVE_POINTS);
        assert!(
            thinned.len() <= MAX_CURVE_POINTS,
            "{} points",
            thinned.len()
        );
        assert!(thinned.len() > 100, "{} points", thinned.len());
        assert_eq!(thinned.first(), points.first());
        assert_eq!(thinned.last(), points.last());
        // A subsequence of the original, in order.
        let mut it = points.iter();
        for p in &thinned {
            assert!(it.any(|q| q == p), "{p:?} is not in order");
        }
        // Per column, the same lowest and highest y as the original.
        let columns = (MAX_CURVE_POINTS / 4) as f64;
        let col = |x: f64| (x * columns).floor().min(columns - 1.0) as usize;
        let range = |pts: &[(f64, f64)]| {
            let mut r = vec![(f64::INFINITY, f64::NEG_INFINITY); columns as usize];
            for &(x, y) in pts {
                let c = &mut r[col(x)];
                c.0 = c.0.min(y);
                c.1 = c.1.max(y);
            }
            r
        };
        assert_eq!(range(&points), range(&thinned));
    }

    #[test]
    fn thin_drops_non_finite_points_and_bounds_non_monotone_curves() {
        let mut points: Vec<(f64, f64)> = (0..50_000)
            .map(|i| {
                (
                    ((i * 7919) % 10_007) as f64 / 10_007.0,
                    (i % 13) as f64 / 13.0,
                )
            })
            .collect();
        points.push((f64::NAN, 0.5));
        let thinned = thin(&points, 2000);
        assert!(thinned.len() <= 2000, "{}", thinned.len());
        assert!(thinned.iter().all(|(x, y)| x.is_finite() && y.is_finite()));
    }

    #[test]
    fn pr_steps_enclose_the_average_precision() {
        // scores 0.9 (pos), 0.8 (neg), 0.7 (pos): AP = 0.5 * 1 + 0.5 * 2/3.
        let curve = vec![(0.5, 1.0, 0.9), (0.5, 0.5, 0.8), (1.0, 2.0 / 3.0, 0.7)];
        let steps = pr_steps(&curve);
        let area: f64 = steps.windows(2).map(|w| (w[1].0 - w[0].0) * w[1].1).sum();
        assert!((area - (0.5 + 1.0 / 3.0)).abs() < 1e-12, "{area}");
        assert_eq!(
            steps,
            [(0.0, 1.0), (0.5, 1.0), (0.5, 2.0 / 3.0), (1.0, 2.0 / 3.0)]
        );
    }
}
