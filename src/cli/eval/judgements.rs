//! `civility eval --judgements`: how often the model decides as a
//! moderator did, as a table or as JSON.

use super::EvalArgs;
use anyhow::{Context, Result};
use civility::evaluate::{judge, read_judgements, JudgementReport, DECISIONS};
use civility::Moderator;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Reads the judgements at `path`, scores them and prints the report.
pub(super) fn run(moderator: &Moderator, path: &Path, args: &EvalArgs) -> Result<ExitCode> {
    let rows = read_judgements(path).with_context(|| format!("--judgements {}", path.display()))?;
    let report = judge(moderator, &rows, args.threads);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_report(&mut out, &report, args.disagreements)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A share as a percentage with one decimal.
fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn print_report(
    out: &mut impl Write,
    r: &JudgementReport,
    limit: Option<usize>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} judgements: the model decided as the moderator on {} ({}); \
         {} more leniently, {} more strictly",
        r.comments,
        r.agreed,
        percent(r.agreement),
        r.too_lenient,
        r.too_strict
    )?;

    let width = r
        .categories
        .iter()
        .map(|c| c.category.chars().count())
        .max()
        .unwrap_or(0)
        .max("category".len());
    writeln!(
        out,
        "\n{:<width$} {:>5} {:>6} {:>7}   model: {:>5} {:>6} {:>6}",
        "category", "rows", "agreed", "share", "allow", "review", "reject"
    )?;
    for c in &r.categories {
        let [allow, review, reject] = c.model_decisions;
        writeln!(
            out,
            "{:<width$} {:>5} {:>6} {:>7}          {allow:>5} {review:>6} {reject:>6}",
            c.category,
            c.comments,
            c.agreed,
            percent(c.agreement)
        )?;
    }
    let column = |d: usize| -> u64 { r.confusion.counts.iter().map(|row| row[d]).sum() };
    writeln!(
        out,
        "{:<width$} {:>5} {:>6} {:>7}          {:>5} {:>6} {:>6}",
        "all",
        r.comments,
        r.agreed,
        percent(r.agreement),
        column(0),
        column(1),
        column(2)
    )?;

    writeln!(
        out,
        "\n{:<17} {:>6} {:>6} {:>6}",
        "moderator \\ model", "allow", "review", "reject"
    )?;
    for (decision, row) in DECISIONS.iter().zip(&r.confusion.counts) {
        write!(out, "{:<17}", decision.as_str())?;
        for n in row {
            write!(out, " {n:>6}")?;
        }
        writeln!(out)?;
    }

    if r.disagreements.is_empty() {
        return Ok(());
    }
    let shown = limit.unwrap_or(usize::MAX).min(r.disagreements.len());
    writeln!(
        out,
        "\ndisagreements ({}{}):",
        r.disagreements.len(),
        if shown < r.disagreements.len() {
            format!(", the first {shown}")
        } else {
            String::new()
        }
    )?;
    for d in &r.disagreements[..shown] {
        writeln!(
            out,
            "  line {}  {}  moderator {}, model {} (incivility {:.3})\n    {:?}",
            d.line,
            d.category,
            d.expected.as_str(),
            d.got.as_str(),
            d.incivility,
            d.text
        )?;
    }
    if shown < r.disagreements.len() {
        writeln!(
            out,
            "  ... {} more (--disagreements N to show more)",
            r.disagreements.len() - shown
        )?;
    }
    Ok(())
}
