//! The confusion-matrix heat map of a multi-class head: one panel per
//! model, each cell coloured by its share of the true label's comments.

use super::{fmt_n, fmt_title_metric, title_style, DrawResult, Panel, FONT};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of one confusion panel for `classes` labels: cells of
/// 60 to 90 pixels plus room for the labels.
pub(super) fn confusion_panel_size(classes: usize) -> (u32, u32) {
    let classes = classes.max(1) as u32;
    let cell = (600 / classes).clamp(60, 90);
    (cell * classes + 190, cell * classes + 170)
}

pub(super) fn draw_confusion<DB: DrawingBackend>(
    head: &str,
    panels: &[Panel<'_>],
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let title = format!(
        "{head}: confusion matrix, {}, {}",
        fmt_n(panels.iter().map(|p| p.n)),
        fmt_title_metric(
            "macro-F1",
            &panels
                .iter()
                .map(|p| Some(p.report.macro_f1))
                .collect::<Vec<_>>()
        )
    );
    let body = root.margin(10, 0, 0, 0).titled(&title, title_style())?;
    let areas = body.split_evenly((1, panels.len().max(1)));
    for (panel, area) in panels.iter().zip(&areas) {
        draw_confusion_panel(panel, panels.len() > 1, area)?;
    }
    Ok(())
}

fn draw_confusion_panel<DB: DrawingBackend>(
    panel: &Panel<'_>,
    named: bool,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let counts = &panel.report.confusion.counts;
    let n = counts.len().min(panel.labels.len());
    if n == 0 {
        return Ok(());
    }
    let caption = if named {
        format!(
            "{}, macro-F1 {:.3}, accuracy {:.3}",
            panel.name, panel.report.macro_f1, panel.report.accuracy
        )
    } else {
        format!("accuracy {:.3}", panel.report.accuracy)
    };
    let labels: Vec<String> = panel.labels[..n]
        .iter()
        .map(|l| shorten_end(l, 12))
        .collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 17))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(64)
        .y_label_area_size(110)
        .build_cartesian_2d(CellAxis(n), CellAxis(n))?;
    // Row i (true label i) is drawn at the top for i = 0.
    let label_of =
        |v: f64| -> String { labels.get(v.max(0.0) as usize).cloned().unwrap_or_default() };
    let row_of = |v: f64| -> String {
        let r = v.max(0.0) as usize;
        labels
            .get(n.saturating_sub(1 + r))
            .cloned()
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|v| label_of(*v))
        .y_label_formatter(&|v| row_of(*v))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .x_desc("predicted label (colour: share of the true label's comments)")
        .y_desc("true label")
        .draw()?;
    for (i, row) in counts.iter().take(n).enumerate() {
        let total: u64 = row.iter().sum();
        let y = (n - 1 - i) as f64;
        for (j, &count) in row.iter().take(n).enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            let x = j as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                heat(share).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                WHITE.stroke_width(1),
            )))?;
            let ink = if share > 0.5 { WHITE } else { BLACK };
            chart.draw_series(std::iter::once(Text::new(
                count.to_string(),
                (x + 0.5, y + 0.5),
                (FONT, 16)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
    }
    Ok(())
}

/// An axis of `n` cells, [0, n], with a tick and a label at each cell's
/// centre. plotters' `with_key_points` does the same but then wants a
/// value formatter of its own; this one takes `x_label_formatter`.
struct CellAxis(usize);

impl Ranged for CellAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = value / self.0.max(1) as f64;
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Ticks (bold points) only; no light grid lines between them.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.0).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0 as f64
    }
}

/// The first `max` characters of a label, with "…" if cut.
fn shorten_end(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// White to dark blue as `share` goes from 0 to 1, through the stops of
/// ColorBrewer's "Blues", which stay distinct in the middle where a
/// straight blend looks grey.
fn heat(share: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (247.0, 251.0, 255.0),
        (198.0, 219.0, 239.0),
        (107.0, 174.0, 214.0),
        (33.0, 113.0, 181.0),
        (8.0, 48.0, 107.0),
    ];
    let t = share.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}
