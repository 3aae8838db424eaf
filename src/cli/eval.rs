//! `civility eval`: measure a model on labelled comments.

use super::args::{DataArgs, ModelArgs};
use anyhow::Result;
use civility::evaluate::{evaluate, Evaluation, Subset};
use std::io::Write;
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
/// recall, F1, confusion matrices, calibration error.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # the built-in model on our own validation comments
  civility eval training-data/validation.jsonl --head incivility --head insult --head tone
  # a model on the held-out split of its training configuration
  civility eval --model my.civ --config models/default.toml
  # one corpus only, as JSON
  civility eval --config models/default.toml --only civil-comments --json

With --config the default split is the held-out part; with FILEs it is every row.")]
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
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let moderator = args.model.load()?;
    let model_heads: Vec<String> = moderator
        .model()
        .heads()
        .map(|h| h.name().to_string())
        .collect();
    let (_, data) = args.data.load(&model_heads)?;
    let subset = match (args.split, args.data.config.is_some()) {
        (Some(SplitArg::All), _) | (None, false) => Subset::All,
        (Some(SplitArg::Holdout), _) | (None, true) => Subset::Holdout,
        (Some(SplitArg::Train), _) => Subset::Train,
    };
    let evaluation = evaluate(&moderator, &data, subset, args.threads);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &evaluation)?;
        writeln!(out)?;
    } else {
        print_evaluation(&mut out, &evaluation)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn fmt_opt(x: Option<f64>) -> String {
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
                write!(out, " {:>8}", &l[..l.len().min(8)])?;
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
