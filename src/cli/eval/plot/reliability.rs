//! The reliability diagram: observed positive rate against mean predicted
//! probability per bin, over a bar chart of how many comments each bin
//! holds.

use super::{
    binary_caption, draw_legend, fmt_opt, line_legend, unit_chart, DrawResult, Series, FONT, GRAY,
    UNIT_X,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(super) fn draw_reliability<DB: DrawingBackend>(
    head: &str,
    series: &[Series<'_>],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let caption = binary_caption(head, "reliability", "ECE", series, |b| b.ece);
    let (_, h) = root.dim_in_pixel();
    let (upper, lower) = root.split_vertically(h * 7 / 10);
    let mut chart = unit_chart(
        &upper,
        &caption,
        "mean predicted probability (per bin)",
        "observed positive rate",
    )?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            GRAY.stroke_width(1),
        ))?
        .label("perfectly calibrated")
        .legend(line_legend(GRAY, 1));
    let max_count = series
        .iter()
        .flat_map(|s| s.report.reliability.iter().map(|b| b.count))
        .max()
        .unwrap_or(0)
        .max(1);
    for s in series {
        let bins: Vec<_> = s
            .report
            .reliability
            .iter()
            .filter(|b| b.count > 0)
            .collect();
        let points: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (b.mean_predicted, b.observed_rate))
            .collect();
        chart
            .draw_series(LineSeries::new(points, s.color.stroke_width(2)))?
            .label(format!("{}, ECE {}", s.name, fmt_opt(s.report.ece)))
            .legend(line_legend(s.color, 3));
        // Point area grows with the bin's share of comments.
        chart.draw_series(bins.iter().map(|b| {
            let r = 3.0 + 9.0 * (b.count as f64 / max_count as f64).sqrt();
            EmptyElement::at((b.mean_predicted, b.observed_rate))
                + Circle::new((0, 0), r.round() as i32, s.color.mix(0.55).filled())
                + Circle::new((0, 0), r.round() as i32, s.color.stroke_width(1))
        }))?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

    // Below: how many comments fell into each bin, per model.
    let headroom = if series.len() > 1 { 1.4 } else { 1.18 };
    let mut counts = ChartBuilder::on(&lower)
        .margin(16)
        .margin_right(28)
        .margin_top(4)
        .x_label_area_size(56)
        .y_label_area_size(64)
        // Head room for the count labels: vertical ones when comparing.
        .build_cartesian_2d(UNIT_X, 0f64..(max_count as f64 * headroom))?;
    counts
        .configure_mesh()
        .x_labels(11)
        .y_labels(4)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_desc("predicted probability bin")
        .y_desc("comments")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    let k = series.len().max(1) as f64;
    for (i, s) in series.iter().enumerate() {
        for b in &s.report.reliability {
            let width = (b.upper - b.lower) * 0.8 / k;
            let x0 = b.lower + (b.upper - b.lower) * 0.1 + width * i as f64;
            let x1 = x0 + width;
            let y = b.count as f64;
            counts.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, y)],
                s.color.mix(0.75).filled(),
            )))?;
            if b.count > 0 {
                // Two bars share a bin when comparing: their labels stand
                // upright so that neighbours can't overlap.
                let style = if series.len() > 1 {
                    (FONT, 12)
                        .into_font()
                        .transform(FontTransform::Rotate270)
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center))
                } else {
                    (FONT, 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom))
                };
                counts.draw_series(std::iter::once(
                    EmptyElement::at(((x0 + x1) / 2.0, y))
                        + Text::new(fmt_count(b.count), (0, -4), style),
                ))?;
            }
        }
    }
    Ok(())
}

/// A count in at most five characters: 9999, 19.6k, 250k, 1.2M.
fn fmt_count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=99_999 => format!("{:.1}k", n as f64 / 1e3),
        100_000..=999_999 => format!("{:.0}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fit_in_five_characters() {
        for (n, s) in [
            (0, "0"),
            (9_999, "9999"),
            (19_556, "19.6k"),
            (250_400, "250k"),
            (1_234_567, "1.2M"),
        ] {
            assert_eq!(fmt_count(n), s);
        }
    }
}
