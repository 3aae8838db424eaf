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
//!
//! This module chooses the figures, saves them and holds what every figure
//! shares (colours, fonts, the unit-square chart, captions, legends); the
//! figures themselves are drawn in `curves` (ROC and precision-recall),
//! `reliability` and `confusion`.

mod confusion;
mod curves;
mod raster;
mod reliability;

use super::fmt_opt;
use anyhow::{anyhow, Context, Result};
use civility::evaluate::{BinaryReport, Evaluation, HeadEvaluation, MultiReport};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;

use confusion::{confusion_panel_size, draw_confusion};
use curves::{draw_pr, draw_roc};
use reliability::draw_reliability;

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
        let reports: Vec<(usize, &HeadEvaluation)> = runs
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

#[cfg(test)]
mod tests {
    use super::*;

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
