//! `civility train`: labelled comments in, model file out.

use super::args::{DataArgs, DEFAULT_HOLDOUT};
use anyhow::{Context, Result};
use civility::data::{Dataset, Part};
use civility::train::{train, Stage, TrainOptions, TrainReport};
use civility::{Rule, ThresholdTargets, TrainingConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train a model from labelled comments (JSONL or CSV).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # the default model, from its checked-in configuration
  civility train --config models/default.toml -o models/default.civ
  # your own comments: fields named after the heads, text in \"text\"
  civility train comments.jsonl --head incivility --head tone -o my.civ
  # a CSV whose text column is \"body\", skipping malformed rows
  civility train data.csv --text body --head toxic --skip-invalid -o my.civ
  # train on every comment, holding none out
  civility train comments.jsonl --head incivility --holdout 0 -o my.civ
  # leave one corpus out, to test on it afterwards
  civility train --config models/default.toml --exclude goemotions -o no-ge.civ

With FILEs it trains with the settings of models/default.toml that do not depend
on its corpora, each file's labels balanced and thresholds chosen as the default
model's are (review catches 80% of positive comments, rejections 95% precise;
with fewer than 50 comments of a label it warns and keeps 0.5 and 0.9). It holds
out 10% (--holdout) and prints the eval command for exactly that part.
The model is written to a temporary file and renamed over OUT only when complete.
See models/default.toml for the configuration format (sources, label rules, heads).")]
#[command(group(clap::ArgGroup::new("data").required(true).args(["files", "config"])))]
pub struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the model.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Write the training report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let (mut config, data) = args.data.load(&[])?;
    let simple = args.data.config.is_none();
    if simple {
        if let Some(warning) = drop_thresholds_without_data(&mut config, &data) {
            eprintln!("civility: warning: {warning}");
        }
    }
    // A progress bar on a terminal; nothing but the report when piped.
    let bar = std::io::stderr().is_terminal().then(|| {
        let style = ProgressStyle::with_template("{prefix:>11} [{bar:40}] {pos}/{len} ({elapsed})")
            .expect("a valid template")
            .progress_chars("=> ");
        ProgressBar::new(0).with_style(style)
    });
    let progress = |stage: Stage, done: usize, total: usize| {
        let Some(bar) = bar.as_ref().filter(|_| stage != Stage::Done) else {
            return;
        };
        if bar.prefix() != stage.name() {
            // Length and position first: the bar redraws on each change.
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_prefix(stage.name());
        } else {
            bar.set_position(done as u64);
        }
    };
    let train_options = TrainOptions {
        threads: args.threads,
        progress: bar
            .as_ref()
            .map(|_| &progress as &civility::train::Progress),
    };
    let trained = train(&config, &data, &train_options);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (model, report) = trained?;
    model
        .save(&args.output)
        .with_context(|| format!("cannot write the model to {}", args.output.display()))?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    // The report is a courtesy: a closed stderr must not fail the run.
    let mut err = std::io::stderr().lock();
    let _ = print_report(&mut err, &report);
    let _ = print_policy(&mut err, model.policy().main_rule(), &report);
    if simple {
        let _ = print_holdout(&mut err, &args, &report);
    }
    let _ = writeln!(err, "wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// Comments of each label of the main head that choosing its thresholds
/// for the targets takes. With fewer, a recall of 80% and a precision of
/// 95% rest on a handful of comments: one comment more or less would move
/// a threshold by a whole step of the out-of-fold probabilities.
const THRESHOLD_MIN_PER_LABEL: usize = 50;

/// The simple path: keeps the shipped threshold targets if the main head
/// (the first binary one, as in the default policy) has enough training
/// comments of each label to choose them on; otherwise drops them, so that
/// the model keeps review at 0.5 and reject at 0.9, and says why.
fn drop_thresholds_without_data(config: &mut TrainingConfig, data: &Dataset) -> Option<String> {
    let targets = config.thresholds.as_ref()?;
    let percent = |t: Option<f64>| t.map_or_else(|| "-".into(), |t| format!("{:.0}%", t * 100.0));
    let (recall, precision) = (
        percent(targets.review_recall),
        percent(targets.reject_precision),
    );
    let (h, head) = data
        .heads
        .iter()
        .enumerate()
        .find(|(_, h)| h.positive.is_some())?;
    let positive = head.positive? as u16;
    let mut counts = [0usize; 2];
    for e in data.examples.iter().filter(|e| e.part == Part::Train) {
        if let Some(label) = e.labels[h] {
            counts[usize::from(label == positive)] += 1;
        }
    }
    if counts.iter().all(|&n| n >= THRESHOLD_MIN_PER_LABEL) {
        return None;
    }
    // No targets; a comment without evidence is still allowed.
    config.thresholds = Some(ThresholdTargets {
        review_recall: None,
        reject_precision: None,
        ..targets.clone()
    });
    let positive = head.labels[usize::from(positive)].as_str();
    let negative = head.labels[1 - usize::from(head.positive? == 1)].as_str();
    Some(format!(
        "{}: {} {positive} and {} {negative} training comments; choosing thresholds \
         (review catching {recall} of {positive}, rejections {precision} precise) \
         needs at least {THRESHOLD_MIN_PER_LABEL} of each, so the model reviews at \
         P >= 0.5 and rejects at P >= 0.9 (change them when scoring with --review \
         and --reject)",
        head.name, counts[1], counts[0],
    ))
}

/// The main rule's thresholds, and how they were chosen.
fn print_policy(out: &mut impl Write, rule: &Rule, report: &TrainReport) -> std::io::Result<()> {
    let at = |p: Option<f64>| p.map_or_else(|| "never".into(), |p| format!("P >= {p:.4}"));
    write!(
        out,
        "policy: {}={}: review at {}, reject at {}",
        rule.head,
        rule.label,
        at(rule.review),
        at(rule.reject)
    )?;
    if let Some(t) = &report.thresholds {
        write!(out, " (chosen on {} out-of-fold comments)", t.comments)?;
    }
    writeln!(out)?;
    if let Some(nothing) = report.thresholds.as_ref().and_then(|t| t.no_evidence) {
        writeln!(
            out,
            "  review raised above {nothing:.4}, the score of a comment with no evidence, \
             which is allowed"
        )?;
    }
    Ok(())
}

/// What the simple path held out, and the command that evaluates the
/// model on exactly that part: the same files, text field, heads, invalid
/// rows skipped or not, and fraction (the hash that chose the part is the
/// same in `eval`).
fn print_holdout(
    out: &mut impl Write,
    args: &TrainArgs,
    report: &TrainReport,
) -> std::io::Result<()> {
    let kept: u64 = report.sources.iter().map(|s| s.kept).sum();
    let held: u64 = report.sources.iter().map(|s| s.holdout).sum();
    let fraction = args.data.holdout;
    if fraction == 0.0 {
        return writeln!(
            out,
            "trained on all {kept} comments (--holdout 0); evaluate on other labelled \
             comments with: civility eval --model {} FILE",
            quote(&args.output.to_string_lossy())
        );
    }
    let mut command = vec![
        "civility".to_string(),
        "eval".into(),
        "--model".into(),
        quote(&args.output.to_string_lossy()),
    ];
    command.extend(args.data.files.iter().map(|f| quote(&f.to_string_lossy())));
    if args.data.text != "text" {
        command.extend(["--text".into(), quote(&args.data.text)]);
    }
    for head in &args.data.head {
        command.extend(["--head".into(), quote(head)]);
    }
    if args.data.skip_invalid {
        command.push("--skip-invalid".into());
    }
    command.extend(["--split".into(), "holdout".into()]);
    if fraction != DEFAULT_HOLDOUT {
        command.extend(["--holdout".into(), fraction.to_string()]);
    }
    writeln!(
        out,
        "held out {held} of {kept} comments ({}%) for evaluation; evaluate with:\n  {}",
        (fraction * 1000.0).round() / 10.0,
        command.join(" ")
    )
}

/// `s` as one shell word: as it is if it is safe, else in single quotes.
fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn print_report(out: &mut impl Write, report: &TrainReport) -> std::io::Result<()> {
    writeln!(
        out,
        "source                     rows     kept  holdout  dupes  unlabelled  invalid  capped"
    )?;
    for s in &report.sources {
        writeln!(
            out,
            "{:<22} {:>8} {:>8} {:>8} {:>6} {:>11} {:>8} {:>7}",
            s.name, s.rows, s.kept, s.holdout, s.duplicates, s.unlabelled, s.invalid, s.capped
        )?;
    }
    writeln!(out, "trained on {} comments", report.train_examples)?;
    for h in &report.heads {
        let counts: Vec<String> = h
            .labels
            .iter()
            .zip(&h.examples)
            .map(|(l, n)| format!("{l}={n}"))
            .collect();
        let quality = match (h.oof_roc_auc, h.oof_macro_f1) {
            (Some(auc), _) => format!("out-of-fold ROC AUC {auc:.3}"),
            (_, Some(f1)) => format!("out-of-fold macro-F1 {f1:.3}"),
            _ => String::new(),
        };
        writeln!(out, "  {:<16} {}  {}", h.name, counts.join(" "), quality)?;
    }
    Ok(())
}
