//! `civility eval --plot DIR`: per binary head a ROC curve, a
//! precision-recall curve and a reliability diagram, per multi-class head a
//! confusion-matrix heat map, each written as `DIR/<head>-<kind>.svg` and
//! `.png`. With `--compare` the two models share each figure: their curves
//! overlaid, their confusion matrices side by side.
//!
//! The numbers all come from [`civility::evaluate`]; this module only draws
//! them. Every figure is drawn twice from the same code, once on plotters'
//! SVG backend and once on its RGB bitmap backend ([`raster`], which
//! fixes its glyph placement), whose pixels `png` encodes.

mod raster;

use super::fmt_opt;
use anyhow::{anyhow, Context, Result};
use civility::evaluate::{BinaryReport, Evaluation, HeadReport, MultiReport};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// At most this many points of a curve are drawn: a curve of 100k points
/// drawn as is makes a multi-megabyte SVG and looks no different.
const MAX_CURVE_POINTS: usize = 2000;

/// One evaluated model: its name for legends and titles, and its results.
pub struct Run<'a> {
    /// Short name: "built-in" or the model file's path.
    pub name: String,
    /// What `evaluate` measured.
    pub evaluation: &'a Evaluation,
}

/// Creates `dir` (and its parents) if missing, so that an unwritable
/// location fails before the evaluation rather than after it.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the plot directory {}", dir.display()))
}

/// Draws every figure for `runs` (one model, or two to compare) into `dir`
/// and returns the files written, in order. Heads with no labelled
/// comments get no figures; a ROC or PR curve that is undefined (only one
/// class in the data) is skipped with a note in `skipped`.
pub fn write_all(dir: &Path, runs: &[Run<'_>], skipped: &mut Vec<String>) -> Result<Vec<PathBuf>> {
    register_font();
    prepare_dir(dir)?;
    let mut written = Vec::new();
    for head in head_names(runs) {
        let reports: Vec<(usize, &HeadReport)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.evaluation
                    .heads
                    .iter()
                    .find(|h| h.name == head && h.n > 0)
                    .map(|h| (i, h))
            })
            .collect();
        let binary: Vec<Series<'_>> = reports
            .iter()
            .filter_map(|&(i, h)| {
                h.binary.as_ref().map(|b| Series {
                    name: legend_name(runs, i),
                    color: COLORS[i % COLORS.len()],
                    n: h.n,
                    report: b,
                })
            })
            .collect();
        let multi: Vec<Panel<'_>> = reports
            .iter()
            .filter_map(|&(i, h)| {
                h.multiclass.as_ref().map(|m| Panel {
                    name: legend_name(runs, i),
                    n: h.n,
                    labels: &h.labels,
                    report: m,
                })
            })
            .collect();
        let mut figures = Vec::new();
        if !binary.is_empty() {
            if binary.iter().any(|s| !s.report.roc_curve.is_empty()) {
                figures.push(("roc", Figure::Roc(&binary)));
            } else {
                skipped.push(format!("{head}-roc: needs both classes in the data"));
            }
            if binary.iter().any(|s| !s.report.pr_curve.is_empty()) {
                figures.push(("pr", Figure::Pr(&binary)));
            } else {
                skipped.push(format!("{head}-pr: needs a positive comment in the data"));
            }
            figures.push(("reliability", Figure::Reliability(&binary)));
        }
        if !multi.is_empty() {
            figures.push(("confusion", Figure::Confusion(&multi)));
        }
        for (kind, figure) in figures {
            let stem = format!("{}-{kind}", file_safe(&head));
            written.extend(save(&figure, &head, dir, &stem)?);
        }
    }
    Ok(written)
}

/// Head names of all runs, the first run's order first.
fn head_names(runs: &[Run<'_>]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for run in runs {
        for h in &run.evaluation.heads {
            if !names.contains(&h.name) {
                names.push(h.name.clone());
            }
        }
    }
    names
}

/// A head name as a file-name part: anything but ASCII letters, digits,
/// `-` and `_` becomes `_`, so a head can't write outside DIR.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// "A: name" when comparing, the bare name otherwise.
fn legend_name(runs: &[Run<'_>], i: usize) -> String {
    let name = shorten(&runs[i].name, 40);
    if runs.len() > 1 {
        format!("{}: {name}", ["A", "B"].get(i).copied().unwrap_or("?"))
    } else {
        name
    }
}

/// Keeps the last `max` characters of a long path, so legends stay inside
/// the plot.
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(n - (max - 1)).collect();
        format!("…{tail}")
    }
}

/// plotters looks fonts up by family name in a table of its own. Without
/// its "ttf" feature (which would ask the system through font-kit) that
/// table starts empty: fill it with DejaVu Sans, compiled into the binary,
/// so the PNGs have text on any machine.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans is a valid font; if it somehow weren't, text drawing
        // would report the missing font as an error, not panic.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, font_data());
    });
}

// ------------------------------------------------------------ figures

/// Model A blue, model B orange (matplotlib's first two colours).
const COLORS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(230, 110, 10)];
/// Probability axes reach a little beyond [0, 1], so that curves along the
/// border and the dots on it stay visible.
const UNIT_X: std::ops::Range<f64> = -0.015..1.015;
const UNIT_Y: std::ops::Range<f64> = -0.02..1.04;
const GRAY: RGBColor = RGBColor(140, 140, 140);
const FONT: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera licence), compiled into the binary, so text
/// renders the same on a machine without fonts.
fn font_data() -> &'static [u8] {
    dejavu::sans::regular()
}

/// One model's binary results for a head.
struct Series<'a> {
    name: String,
    color: RGBColor,
    n: u64,
    report: &'a BinaryReport,
}

/// One model's multi-class results for a head.
struct Panel<'a> {
    name: String,
    n: u64,
    labels: &'a [String],
    report: &'a MultiReport,
}

/// What can be drawn: a closed set, one variant per kind of file.
enum Figure<'a> {
    Roc(&'a [Series<'a>]),
    Pr(&'a [Series<'a>]),
    Reliability(&'a [Series<'a>]),
    Confusion(&'a [Panel<'a>]),
}

/// A chart on probability axes.
type UnitChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl Figure<'_> {
    /// Size in pixels (SVG user units and PNG pixels alike).
    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Roc(_) | Figure::Pr(_) => (760, 680),
            Figure::Reliability(_) => (760, 820),
            Figure::Confusion(panels) => {
                let classes = panels.iter().map(|p| p.labels.len()).max().unwrap_or(1);
                let (w, h) = confusion_panel_size(classes);
                (w * panels.len().max(1) as u32, h + 50)
            }
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        head: &str,
        root: &DrawingArea<DB, Shift>,
    ) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match self {
            Figure::Roc(series) => draw_roc(head, series, root),
            Figure::Pr(series) => draw_pr(head, series, root),
            Figure::Reliability(series) => draw_reliability(head, series, root),
            Figure::Confusion(panels) => draw_confusion(head, panels, root),
        }
    }
}

/// Renders `figure` as `dir/stem.svg` and `dir/stem.png`.
fn save(figure: &Figure<'_>, head: &str, dir: &Path, stem: &str) -> Result<[PathBuf; 2]> {
    let (w, h) = figure.size();
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        figure
            .draw(head, &root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow!("cannot draw {}: {e}", svg_path.display()))?;
    }
    std::fs::write(&svg_path, svg)
        .with_context(|| format!("cannot write {}", svg_path.display()))?;

    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = raster::Raster::with_buffer(&mut rgb, (w, h), font_data()).into_drawing_area();
        figure
            .draw(head, &root)
            .and_then(|()| root.present())
            .map_err(|e| anyhow!("cannot draw {}: {e}", png_path.display()))?;
    }
    let png =
        encode_png(&rgb, w, h).with_context(|| format!("cannot encode {}", png_path.display()))?;
    std::fs::write(&png_path, png)
        .with_context(|| format!("cannot write {}", png_path.display()))?;
    Ok([svg_path, png_path])
}

/// An 8-bit RGB buffer as a PNG file.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

/// "n = 262", or "n = 262 / 250" if the models saw different counts.
fn fmt_n(ns: impl Iterator<Item = u64>) -> String {
    let mut ns: Vec<u64> = ns.collect();
    ns.dedup();
    let ns: Vec<String> = ns.iter().map(u64::to_string).collect();
    format!("n = {}", ns.join(" / "))
}

/// "ROC AUC 0.912" for one model, "ROC AUC 0.912 (A) vs 0.887 (B)" for two.
fn fmt_title_metric(metric: &str, values: &[Option<f64>]) -> String {
    match values {
        [one] => format!("{metric} {}", fmt_opt(*one)),
        _ => {
            let parts: Vec<String> = values
                .iter()
                .zip(["A", "B"])
                .map(|(v, k)| format!("{} ({k})", fmt_opt(*v)))
                .collect();
            format!("{metric} {}", parts.join(" vs "))
        }
    }
}

fn title_style() -> TextStyle<'static> {
    (FONT, 21).into_font().color(&BLACK)
}

/// A chart on the unit square, with the axes, grid and labels every curve
/// figure shares.
fn unit_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
) -> std::result::Result<UnitChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, title_style())
        .margin(16)
        .margin_right(28)
        .x_label_area_size(56)
        .y_label_area_size(64)
        .build_cartesian_2d(UNIT_X, UNIT_Y)?;
    chart
        .configure_mesh()
        .x_labels(11)
        .y_labels(11)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    Ok(chart)
}

fn draw_legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .margin(14)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
}

fn line_legend(color: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(width))
}

/// "head: what, n = …, METRIC …" over every model's results.
fn binary_caption(
    head: &str,
    what: &str,
    metric: &str,
    series: &[Series<'_>],
    value: impl Fn(&BinaryReport) -> Option<f64>,
) -> String {
    let values: Vec<Option<f64>> = series.iter().map(|s| value(s.report)).collect();
    format!(
        "{head}: {what}, {}, {}",
        fmt_n(series.iter().map(|s| s.n)),
        fmt_title_metric(metric, &values)
    )
}

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

fn draw_roc<DB: DrawingBackend>(
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

fn draw_pr<DB: DrawingBackend>(
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

fn draw_reliability<DB: DrawingBackend>(
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

/// Width and height of one confusion panel for `classes` labels: cells of
/// 60 to 90 pixels plus room for the labels.
fn confusion_panel_size(classes: usize) -> (u32, u32) {
    let classes = classes.max(1) as u32;
    let cell = (600 / classes).clamp(60, 90);
    (cell * classes + 190, cell * classes + 170)
}

fn draw_confusion<DB: DrawingBackend>(
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

    #[test]
    fn file_names_stay_inside_the_directory() {
        assert_eq!(file_safe("identity_attack"), "identity_attack");
        assert_eq!(file_safe("../etc/x y"), "___etc_x_y");
    }

    #[test]
    fn png_encoding_has_the_magic_bytes() {
        let png = encode_png(&[255; 4 * 3 * 3], 4, 3).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
    }
}
