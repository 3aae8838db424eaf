//! `civility eval`: measure a model on labelled comments, optionally
//! against a second model (`--compare`) and with plots (`--plot`).

// Child modules, because the command-line modules are declared in
// `cli/mod.rs` and plotting and moderator judgements are only part of
// `eval`.
mod judgements;
mod plot;

use super::args::{DataArgs, ModelArgs};
use anyhow::{Context, Result};
use civility::evaluate::{
    evaluate, perturbation_report, BinaryReport, Evaluation, HeadEvaluation, Subset,
};
use plot::Run;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SplitArg {
    /// Every comment.
    All,
    /// The held-out part of the split (and holdout-only sources).
    Holdout,
    /// The training part.
    Train,
}

/// Evaluate a model on labelled comments: ROC AUC, PR AUC, precision,
/// recall, F1, confusion matrices, calibration error; or its decisions
/// against a moderator's (--judgements).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # the built-in model on our own validation comments
  civility eval training-data/validation.jsonl --head incivility --head insult --head tone
  # a model on the held-out split of its training configuration
  civility eval --model my.civ --config models/default.toml
  # a model from `civility train comments.jsonl ...`, on the part it held out
  civility eval --model my.civ comments.jsonl --head incivility --split holdout
  # one corpus only, as JSON
  civility eval --config models/default.toml --only civil-comments --json
  # ROC, precision-recall and reliability plots, confusion heat maps (SVG and PNG)
  civility eval training-data/validation.jsonl --plot plots/
  # my.civ (B) against the built-in model (A), side by side, curves overlaid
  civility eval training-data/validation.jsonl --compare my.civ --plot plots/
  # two model files, as {\"a\": ..., \"b\": ...}
  civility eval --config models/default.toml --model old.civ --compare new.civ --json
  # how disguised spellings (1d10t, i.d.i.o.t, іdiot, ...) and typos (idoit, idot, iddiot) move the scores
  civility eval training-data/validation.jsonl --head incivility --perturb
  # how often the model decides as a moderator did, per category
  civility eval --judgements training-data/judgements.jsonl
  # the same for my.civ, the first 10 disagreements, or all of it as JSON
  civility eval --judgements training-data/judgements.jsonl --model my.civ --disagreements 10
  civility eval --judgements training-data/judgements.jsonl --json

With --config the default split is the held-out part; with FILEs it is every row,
and --split holdout is the part `civility train FILE` held out (with the same
--holdout, --text and --skip-invalid).
--plot writes DIR/<head>-roc, -pr and -reliability per binary head and
DIR/<head>-confusion per multi-class head, each as .svg and .png.
A judgement file has one JSON object per line: {\"text\": ..., \"decision\":
\"allow\" | \"review\" | \"reject\", \"category\": ...} (category optional).")]
#[command(group(
    clap::ArgGroup::new("data").required(true).args(["files", "config", "judgements"])
))]
pub struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Which part of the split to evaluate on.
    #[arg(long, value_enum)]
    split: Option<SplitArg>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Write plots (ROC, precision-recall, reliability, confusion; SVG and
    /// PNG) into DIR, creating it if missing.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,
    /// Also evaluate this model file on the same data and show both side
    /// by side, with the difference (B - A); --review/--reject apply to both.
    #[arg(long, value_name = "OTHER_MODEL")]
    compare: Option<PathBuf>,
    /// Instead of the usual report: disguise the words that drive each
    /// comment's incivility score in every obfuscation family (leetspeak,
    /// separators, homoglyphs, ...; typos: letters swapped, dropped,
    /// doubled) and report how ROC AUC and the mean scores move.
    #[arg(long, conflicts_with_all = ["compare", "plot"])]
    perturb: bool,
    /// Instead of the usual report: how often the model's decision is the
    /// one a moderator took, overall and per category, on a JSON Lines file
    /// of {"text", "decision", "category"} rows.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "files", "config", "head", "text", "exclude", "only", "skip_invalid",
            "split", "plot", "compare", "perturb",
        ]
    )]
    judgements: Option<PathBuf>,
    /// With --judgements: list at most N of the rows where the model
    /// decided otherwise (default: all of them).
    #[arg(long, value_name = "N", requires = "judgements")]
    disagreements: Option<usize>,
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let moderator = args.model.load()?;
    if let Some(path) = &args.judgements {
        return judgements::run(&moderator, path, &args);
    }
    let other = match &args.compare {
        Some(path) => Some(
            args.model
                .load_from(Some(path))
                .with_context(|| format!("--compare {}", path.display()))?,
        ),
        None => None,
    };
    let mut model_heads: Vec<String> = Vec::new();
    for m in std::iter::once(&moderator).chain(other.as_ref()) {
        for h in m.model().heads() {
            if !model_heads.iter().any(|x| x == h.name()) {
                model_heads.push(h.name().to_string());
            }
        }
    }
    let (_, data) = args.data.load(&model_heads)?;
    if args.data.heads_by_default() {
        let unlabelled: Vec<&str> = model_heads
            .iter()
            .map(String::as_str)
            .filter(|h| !data.heads.iter().any(|d| d.name == *h))
            .collect();
        if !unlabelled.is_empty() {
            eprintln!(
                "civility: not evaluated, no row labels them: {}",
                unlabelled.join(", ")
            );
        }
    }
    let subset = match (args.split, args.data.config.is_some()) {
        (Some(SplitArg::All), _) | (None, false) => Subset::All,
        (Some(SplitArg::Holdout), _) | (None, true) => Subset::Holdout,
        (Some(SplitArg::Train), _) => Subset::Train,
    };
    if args.perturb {
        return perturbation(&moderator, &data, subset, &args);
    }
    // Fail on an unwritable plot directory before the evaluation's work.
    if let Some(dir) = &args.plot {
        plot::prepare_dir(dir)?;
    }
    let name_a = model_name(args.model.model.as_deref());
    let a = evaluate(&moderator, &data, subset, args.threads);
    let b = match (&other, &args.compare) {
        (Some(other), Some(path)) => Some((
            model_name(Some(path)),
            evaluate(other, &data, subset, args.threads),
        )),
        _ => None,
    };

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed pipe, even inside a `serde_json::Error`, is success (main).
    match (&b, args.json) {
        (None, true) => {
            serde_json::to_writer_pretty(&mut out, &a)?;
            writeln!(out)?
        }
        (Some((_, b)), true) => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "a": a, "b": b }))?;
            writeln!(out)?
        }
        (None, false) => print_evaluation(&mut out, &a)?,
        (Some((name_b, b)), false) => print_comparison(&mut out, (&name_a, &a), (name_b, b))?,
    }
    out.flush()?;

    if let Some(dir) = &args.plot {
        let mut runs = vec![Run {
            name: name_a,
            evaluation: &a,
        }];
        if let Some((name, evaluation)) = &b {
            runs.push(Run {
                name: name.clone(),
                evaluation,
            });
        }
        let mut skipped = Vec::new();
        let written = plot::write_all(dir, &runs, &mut skipped)?;
        for note in skipped {
            eprintln!("civility: no plot {note}");
        }
        eprintln!(
            "civility: wrote {} plot files to {}",
            written.len(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How a model is named in comparisons and plot legends.
fn model_name(path: Option<&Path>) -> String {
    path.map_or_else(|| "built-in".to_string(), |p| p.display().to_string())
}

/// A metric to three decimals, or "-" where it is undefined.
pub(super) fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.3}"))
}

fn print_evaluation(out: &mut impl Write, e: &Evaluation) -> std::io::Result<()> {
    writeln!(
        out,
        "{} comments: allow {}, review {}, reject {}",
        e.comments, e.decisions[0], e.decisions[1], e.decisions[2]
    )?;
    for h in &e.heads {
        if let Some(b) = &h.binary {
            writeln!(
                out,
                "\n{} ({} labelled, {} {}): ROC AUC {}  PR AUC {}  ECE {}",
                h.name,
                h.n,
                b.positives,
                b.positive,
                fmt_opt(b.roc_auc),
                fmt_opt(b.pr_auc),
                fmt_opt(b.ece)
            )?;
            writeln!(
                out,
                "  at threshold {:.2}: precision {:.3}  recall {:.3}  F1 {:.3}",
                b.threshold, b.precision, b.recall, b.f1
            )?;
            let c = &b.confusion;
            writeln!(
                out,
                "  confusion: TP {}  FP {}  FN {}  TN {}",
                c.tp, c.fp, c.fn_, c.tn
            )?;
        }
        if let Some(m) = &h.multiclass {
            writeln!(
                out,
                "\n{} ({} labelled): macro-F1 {:.3}  accuracy {:.3}",
                h.name, h.n, m.macro_f1, m.accuracy
            )?;
            let width = h.labels.iter().map(|l| l.len()).max().unwrap_or(5).max(5);
            write!(out, "  {:<width$}", "true\\pred")?;
            for l in &h.labels {
                let short: String = l.chars().take(8).collect();
                write!(out, " {short:>8}")?;
            }
            writeln!(out, "   F1")?;
            for (i, row) in m.confusion.counts.iter().enumerate() {
                write!(out, "  {:<width$}", h.labels[i])?;
                for n in row {
                    write!(out, " {n:>8}")?;
                }
                writeln!(
                    out,
                    "   {:.3}",
                    m.per_label_f1.get(i).copied().unwrap_or(0.0)
                )?;
            }
        }
        if h.n == 0 {
            writeln!(out, "\n{}: no labelled comments", h.name)?;
        }
    }
    if !e.missing_heads.is_empty() {
        writeln!(out, "\nnot in the model: {}", e.missing_heads.join(", "))?;
    }
    Ok(())
}

/// `a` and `b` side by side per head, with `b - a`.
fn print_comparison(
    out: &mut impl Write,
    (name_a, a): (&str, &Evaluation),
    (name_b, b): (&str, &Evaluation),
) -> std::io::Result<()> {
    writeln!(out, "{} comments", a.comments)?;
    for (key, name, e) in [("A", name_a, a), ("B", name_b, b)] {
        writeln!(
            out,
            "  {key}: {name}: allow {}, review {}, reject {}",
            e.decisions[0], e.decisions[1], e.decisions[2]
        )?;
    }
    let mut names: Vec<&str> = a.heads.iter().map(|h| h.name.as_str()).collect();
    for h in &b.heads {
        if !names.contains(&h.name.as_str()) {
            names.push(&h.name);
        }
    }
    let find = |e: &'_ Evaluation, name: &str| -> Option<HeadEvaluation> {
        e.heads.iter().find(|h| h.name == name).cloned()
    };
    for name in names {
        let (ha, hb) = (find(a, name), find(b, name));
        let n = |h: &Option<HeadEvaluation>| h.as_ref().map_or(0, |h| h.n);
        let (na, nb) = (n(&ha), n(&hb));
        let counted = if na == nb {
            format!("{na} labelled")
        } else {
            format!("{na} labelled for A, {nb} for B")
        };
        let (ba, bb) = (
            ha.as_ref().and_then(|h| h.binary.as_ref()),
            hb.as_ref().and_then(|h| h.binary.as_ref()),
        );
        let (ma, mb) = (
            ha.as_ref().and_then(|h| h.multiclass.as_ref()),
            hb.as_ref().and_then(|h| h.multiclass.as_ref()),
        );
        if ba.is_none() && bb.is_none() && ma.is_none() && mb.is_none() {
            writeln!(out, "\n{name}: no labelled comments")?;
            continue;
        }
        if ba.is_some() || bb.is_some() {
            let positive = ba.or(bb).map_or("", |r| r.positive.as_str());
            let positives = ba.or(bb).map_or(0, |r| r.positives);
            writeln!(out, "\n{name} ({counted}, {positives} {positive})")?;
            writeln!(out, "  {:<12} {:>9} {:>9} {:>9}", "", "A", "B", "B - A")?;
            type Metric = fn(&BinaryReport) -> Option<f64>;
            let metrics: [(&str, Metric); 7] = [
                ("ROC AUC", |r| r.roc_auc),
                ("PR AUC", |r| r.pr_auc),
                ("ECE", |r| r.ece),
                ("threshold", |r| Some(r.threshold)),
                ("precision", |r| Some(r.precision)),
                ("recall", |r| Some(r.recall)),
                ("F1", |r| Some(r.f1)),
            ];
            for (label, metric) in metrics {
                compare_row(out, label, ba.and_then(metric), bb.and_then(metric))?;
            }
        }
        if ma.is_some() || mb.is_some() {
            writeln!(out, "\n{name} ({counted})")?;
            writeln!(out, "  {:<12} {:>9} {:>9} {:>9}", "", "A", "B", "B - A")?;
            let (fa, fb) = (ma.map(|m| m.macro_f1), mb.map(|m| m.macro_f1));
            compare_row(out, "macro-F1", fa, fb)?;
            let (aa, ab) = (ma.map(|m| m.accuracy), mb.map(|m| m.accuracy));
            compare_row(out, "accuracy", aa, ab)?;
        }
    }
    for (key, e) in [("A", a), ("B", b)] {
        if !e.missing_heads.is_empty() {
            writeln!(out, "\nnot in model {key}: {}", e.missing_heads.join(", "))?;
        }
    }
    Ok(())
}

/// One metric of both models and their difference; "-" where undefined.
fn compare_row(
    out: &mut dyn Write,
    label: &str,
    a: Option<f64>,
    b: Option<f64>,
) -> std::io::Result<()> {
    let diff = match (a, b) {
        (Some(a), Some(b)) => format!("{:+.3}", b - a),
        _ => "-".into(),
    };
    writeln!(
        out,
        "  {label:<12} {:>9} {:>9} {diff:>9}",
        fmt_opt(a),
        fmt_opt(b)
    )
}

/// `--perturb`: how obfuscation moves the main head's scores.
fn perturbation(
    moderator: &civility::Moderator,
    data: &civility::data::Dataset,
    subset: Subset,
    args: &EvalArgs,
) -> Result<ExitCode> {
    let Some(report) = perturbation_report(moderator, data, subset, args.threads) else {
        return Err(super::BadInput(format!(
            "no comments labelled for the model's main head ({})",
            moderator.policy().main_rule().head
        ))
        .into());
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{}: {} comments ({} positive); clean ROC AUC {}, mean score {:.3} positive, {:.3} negative",
        report.head,
        report.comments,
        report.positives,
        fmt_opt(report.clean_roc_auc),
        report.clean_mean_positive,
        report.clean_mean_negative
    )?;
    writeln!(
        out,
        "{:<12} {:>8} {:>8} {:>14} {:>14}",
        "family", "ROC AUC", "change", "positive mean", "negative mean"
    )?;
    for r in &report.families {
        writeln!(
            out,
            "{:<12} {:>8} {:>8} {:>6.3} ({:+.3}) {:>6.3} ({:+.3})",
            r.family,
            fmt_opt(r.roc_auc),
            r.roc_auc_change
                .map_or_else(|| "-".into(), |v| format!("{v:+.3}")),
            r.mean_positive,
            r.mean_positive_change,
            r.mean_negative,
            r.mean_negative_change
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
