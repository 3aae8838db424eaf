//! `civility train`: labelled comments in, model file out.

use super::args::DataArgs;
use anyhow::{Context, Result};
use civility::train::{train, Stage, TrainOptions, TrainReport};
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
  # leave one corpus out, to test on it afterwards
  civility train --config models/default.toml --exclude goemotions -o no-ge.civ

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
    let (config, data) = args.data.load(&[])?;
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
    let _ = writeln!(err, "wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
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
