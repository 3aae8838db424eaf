//! `civility score`: one comment from stdin, or JSON lines in and out.

use super::args::ModelArgs;
use super::BadInput;
use anyhow::{Context, Result};
use civility::{Moderator, Verdict};
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

/// Score a comment read from stdin (or one JSON object per line with --jsonl).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  echo 'Thanks for the clear reporting.' | civility score
  echo 'Shut up, you 1d10t' | civility score --json --explain
  printf '%s\\n' '{\"id\": 1, \"text\": \"Great article\"}' | civility score --jsonl
  civility score --jsonl --threads 2 < comments.jsonl > verdicts.jsonl
  civility score --model my.civ --review 0.4 --reject 0.8 < comment.txt

With --jsonl each input line is {\"id\": <any JSON, optional>, \"text\": \"...\"} and each output line is
{\"id\", \"decision\", \"incivility\", \"attributes\": {...}, \"tone\": {\"label\", \"scores\"}}, in input order.")]
pub struct ScoreArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Print the verdict as one JSON object.
    #[arg(long, conflicts_with = "jsonl")]
    json: bool,
    /// Read one JSON object per line and write one verdict per line.
    #[arg(long)]
    jsonl: bool,
    /// Also list the words that pushed the incivility score up or down.
    #[arg(long, conflicts_with = "jsonl")]
    explain: bool,
    /// Worker threads for --jsonl (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
}

pub fn run(args: ScoreArgs) -> Result<ExitCode> {
    let moderator = args.model.load()?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    if args.jsonl {
        return score_jsonl(&moderator, stdin.lock(), &mut stdout.lock(), args.threads);
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .read_to_end(&mut bytes)
        .context("cannot read stdin")?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        BadInput(format!(
            "stdin is not valid UTF-8: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(BadInput(
            "no comment on stdin: pipe the comment text in, e.g. echo 'text' | civility score"
                .into(),
        )
        .into());
    }
    let mut out = stdout.lock();
    if args.explain {
        let explanation = moderator.explain(text);
        if args.json {
            serde_json::to_writer(&mut out, &explanation)?;
            writeln!(out)?;
        } else {
            print_verdict(&mut out, &explanation.verdict)?;
            print_evidence(&mut out, &explanation.evidence)?;
        }
    } else {
        let verdict = moderator.score(text);
        if args.json {
            serde_json::to_writer(&mut out, &verdict)?;
            writeln!(out)?;
        } else {
            print_verdict(&mut out, &verdict)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_verdict(out: &mut impl Write, v: &Verdict) -> Result<()> {
    writeln!(out, "decision:   {}", v.decision())?;
    writeln!(out, "incivility: {:.3}", v.incivility())?;
    let attributes: Vec<(&str, f64)> = v.attributes().collect();
    if !attributes.is_empty() {
        let width = attributes.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        writeln!(out, "attributes:")?;
        for (name, p) in attributes {
            writeln!(out, "  {name:<width$}  {p:.3}")?;
        }
    }
    if let Some(tone) = v.tone() {
        let (label, p) = tone.top();
        let mut others: Vec<(&String, &f64)> = tone.labels.iter().zip(tone.probabilities).collect();
        others.sort_by(|a, b| b.1.total_cmp(a.1));
        let rest: Vec<String> = others
            .iter()
            .skip(1)
            .take(2)
            .map(|(l, p)| format!("{l} {p:.2}"))
            .collect();
        writeln!(
            out,
            "tone:       {label} ({p:.2}; then {})",
            rest.join(", ")
        )?;
    }
    Ok(())
}

fn print_evidence(out: &mut impl Write, evidence: &[civility::Evidence]) -> Result<()> {
    let up: Vec<String> = evidence
        .iter()
        .filter(|e| e.weight > 0.5)
        .take(5)
        .map(|e| format!("{:?} {:+.1}", e.text, e.weight))
        .collect();
    let down: Vec<String> = evidence
        .iter()
        .rev()
        .filter(|e| e.weight < -0.5)
        .take(5)
        .map(|e| format!("{:?} {:+.1}", e.text, e.weight))
        .collect();
    if !up.is_empty() {
        writeln!(out, "raised by:  {}", up.join(", "))?;
    }
    if !down.is_empty() {
        writeln!(out, "lowered by: {}", down.join(", "))?;
    }
    Ok(())
}

/// One parsed input line.
struct Item {
    id: serde_json::Value,
    text: String,
}

#[derive(serde::Deserialize)]
struct InputLine {
    #[serde(default)]
    id: serde_json::Value,
    text: Option<serde_json::Value>,
}

fn parse_line(bytes: &[u8], line: u64) -> std::result::Result<Option<Item>, BadInput> {
    let s = std::str::from_utf8(bytes).map_err(|e| {
        BadInput(format!(
            "line {line}: not valid UTF-8 (invalid byte at offset {} of the line)",
            e.valid_up_to()
        ))
    })?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    let parsed: InputLine = serde_json::from_str(s).map_err(|e| {
        BadInput(format!(
            "line {line}: expected a JSON object like {{\"id\": 1, \"text\": \"...\"}}: {e}"
        ))
    })?;
    match parsed.text {
        Some(serde_json::Value::String(text)) => Ok(Some(Item {
            id: parsed.id,
            text,
        })),
        Some(_) => Err(BadInput(format!("line {line}: \"text\" must be a string"))),
        None => Err(BadInput(format!("line {line}: missing field \"text\""))),
    }
}

/// Streams JSON lines through the model in batches: memory stays bounded,
/// output keeps input order, and each batch is scored on all threads.
/// A malformed line stops the run after every line before it is written.
fn score_jsonl(
    moderator: &Moderator,
    mut input: impl BufRead,
    out: &mut impl Write,
    threads: usize,
) -> Result<ExitCode> {
    const BATCH: usize = 4096;
    let mut line_no = 0u64;
    let mut scored = 0u64;
    let mut buf = Vec::new();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        let mut failure = None;
        let mut eof = false;
        while batch.len() < BATCH {
            buf.clear();
            let n = input
                .read_until(b'\n', &mut buf)
                .context("cannot read stdin")?;
            if n == 0 {
                eof = true;
                break;
            }
            line_no += 1;
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match parse_line(line, line_no) {
                Ok(Some(item)) => batch.push(item),
                Ok(None) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let texts: Vec<&str> = batch.iter().map(|i| i.text.as_str()).collect();
        let verdicts = civility::evaluate::score_parallel(moderator, &texts, threads);
        for (item, verdict) in batch.iter().zip(&verdicts) {
            out.write_all(b"{\"id\":")?;
            serde_json::to_writer(&mut out, &item.id)?;
            out.write_all(b",")?;
            let v = serde_json::to_vec(verdict)?;
            out.write_all(&v[1..])?;
            out.write_all(b"\n")?;
        }
        scored += batch.len() as u64;
        if let Some(e) = failure {
            out.flush()?;
            return Err(e.into());
        }
        if eof {
            break;
        }
    }
    out.flush()?;
    if scored == 0 {
        return Err(BadInput(
            "no comments on stdin: expected one JSON object per line, like {\"id\": 1, \"text\": \"...\"}"
                .into(),
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}
