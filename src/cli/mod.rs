//! Command-line definition and dispatch. Each subcommand's work lives in the
//! library; these modules only parse flags, read input and print.

mod args;
mod eval;
mod score;
mod train;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for bad input: malformed data, invalid UTF-8, empty input,
/// invalid flags (clap uses 2 as well).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status for other failures: unreadable or damaged model, I/O.
pub const EXIT_FAILURE: u8 = 1;

/// An error caused by the input rather than the environment.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The exit status for an error.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|c| {
        c.is::<BadInput>()
            || matches!(
                c.downcast_ref::<civility::Error>(),
                Some(
                    civility::Error::Data { .. }
                        | civility::Error::Config { .. }
                        | civility::Error::NoData(_)
                )
            )
    });
    if bad_input {
        EXIT_BAD_INPUT
    } else {
        EXIT_FAILURE
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "civility",
    version,
    about = "Score reader comments for incivility and tone; train and evaluate models.",
    long_about = "Score reader comments for incivility (insult, profanity, identity attack, \
threat) and tone, and decide: allow, review or reject. A default model is built in.",
    after_help = "Examples:
  echo 'You are an idiot.' | civility score
  civility score --jsonl < comments.jsonl > verdicts.jsonl
  civility train --config models/default.toml -o my.civ
  civility eval --model my.civ --config models/default.toml

Exit status: 0 on success, 2 for bad input (invalid UTF-8, malformed JSON lines, \
empty input, malformed training data), 1 for other errors (missing or damaged model file)."
)]
struct Opts {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Score(score::ScoreArgs),
    Train(train::TrainArgs),
    Eval(eval::EvalArgs),
    Info(InfoArgs),
}

/// Show a model's heads, pipeline, policy and training summary.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  civility info
  civility info --model my.civ")]
struct InfoArgs {
    /// Model file (default: the built-in model).
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<ExitCode> {
    let opts = Opts::parse();
    match opts.command {
        Command::Score(args) => score::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Info(args) => info(args),
    }
}

fn info(args: InfoArgs) -> Result<ExitCode> {
    let moderator = args::load_model(args.model.as_ref())?;
    let model = moderator.model();
    let heads: Vec<serde_json::Value> = model
        .heads()
        .map(|h| {
            serde_json::json!({
                "name": h.name(),
                "labels": h.labels(),
                "variant": h.variant(),
                "alpha": h.alpha(),
                "class_weights": h.class_weights(),
            })
        })
        .collect();
    let info = serde_json::json!({
        "format_version": civility::FORMAT_VERSION,
        "heads": heads,
        "pipeline": model.pipeline(),
        "policy": model.policy(),
        "metadata": model.metadata(),
    });
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &info)?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}
