//! `civility score`: one comment from stdin, or JSON lines in and out.

use super::args::ModelArgs;
use super::BadInput;
use anyhow::{Context, Result};
use civility::io::{read_line_limited, skip_rest_of_line, LineRead};
use civility::parallel::parallel_map;
use civility::{Moderator, Oversize, Scratch, SizeLimit, Verdict};
use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

/// The longest comment read from stdin, and the longest `--jsonl` line,
/// when `--max-bytes 0` lifts the size limit: a data file's longest line.
const UNLIMITED_INPUT_BYTES: usize = civility::io::MAX_LINE_BYTES;
/// The longest `--jsonl` line under a size limit, at least: JSON escapes
/// can make a line several times longer than its text.
const MIN_LINE_BYTES: usize = 1 << 20;

/// Score a comment read from stdin (or one JSON object per line with --jsonl).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  echo 'Thanks for the clear reporting.' | civility score
  echo 'Shut up, you 1d10t' | civility score --json --explain
  printf '%s\\n' '{\"id\": 1, \"text\": \"Great article\"}' | civility score --jsonl
  civility score --jsonl --threads 2 < comments.jsonl > verdicts.jsonl
  civility score --jsonl --skip-invalid < backfill.jsonl > verdicts.jsonl
  civility score --model my.civ --review 0.4 --reject 0.8 < comment.txt
  civility score --max-bytes 8000 --oversize review < comment.txt

With --jsonl each input line is {\"id\": <any JSON, optional>, \"text\": \"...\"} and each output line is
{\"id\", \"decision\", \"incivility\", \"attributes\": {...}, \"tone\": {\"label\", \"scores\"}}, in input order,
the same id (numbers, objects and arrays as written, without whitespace).

Size limit: a comment longer than --max-bytes (default 64 KiB) is scored on its first --max-bytes
bytes, cut at a character boundary and at whitespace if one is near, and its verdict says so
(\"truncated\": true in JSON). --oversize review or reject raises such a comment's decision to at
least review, or to reject. From stdin, civility reads only a few bytes past the limit and leaves
the rest unread. A --jsonl line may be up to 8 x --max-bytes (1 to 64 MiB) to leave room for JSON
escapes; a longer line stops the run with an error naming it, after the verdicts of the lines
before it, as a malformed line does. With --skip-invalid such a line gets {\"id\", \"error\"}
instead and the run goes on. --max-bytes 0 scores comments of any length, up to 64 MiB from stdin or per line.")]
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
    /// With --jsonl: answer a malformed or over-long line with
    /// {"id", "error"} and go on, instead of stopping there.
    #[arg(long, requires = "jsonl")]
    skip_invalid: bool,
    /// Worker threads for --jsonl (default: all cores).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Score only the first N bytes of a longer comment (0: no limit; at
    /// most 67108864).
    #[arg(
        long,
        value_name = "N",
        default_value_t = SizeLimit::DEFAULT_MAX_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(0..=UNLIMITED_INPUT_BYTES as u64)
    )]
    max_bytes: u64,
    /// What a comment longer than --max-bytes gets: its truncated part's
    /// decision (truncate, the default), at least review, or reject.
    #[arg(long, value_enum, value_name = "POLICY")]
    oversize: Option<OversizeArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OversizeArg {
    Truncate,
    Review,
    Reject,
}

impl ScoreArgs {
    fn size_limit(&self) -> Result<Option<SizeLimit>, BadInput> {
        let on_oversize = match self.oversize {
            None | Some(OversizeArg::Truncate) => Oversize::Truncate,
            Some(OversizeArg::Review) => Oversize::Review,
            Some(OversizeArg::Reject) => Oversize::Reject,
        };
        if self.max_bytes == 0 {
            if self.oversize.is_some() {
                return Err(BadInput(
                    "--oversize needs a size limit, and --max-bytes 0 sets none".into(),
                ));
            }
            return Ok(None);
        }
        // At most 64 MiB (the argument's range), so this fits any usize.
        let max_bytes = usize::try_from(self.max_bytes).unwrap_or(UNLIMITED_INPUT_BYTES);
        Ok(Some(SizeLimit::new(max_bytes, on_oversize)))
    }
}

/// The longest `--jsonl` line read under `limit`: never more than with
/// no limit at all.
fn max_line_bytes(limit: Option<SizeLimit>) -> usize {
    match limit {
        Some(l) => l
            .max_bytes
            .saturating_mul(8)
            .clamp(MIN_LINE_BYTES, UNLIMITED_INPUT_BYTES),
        None => UNLIMITED_INPUT_BYTES,
    }
}

pub fn run(args: ScoreArgs) -> Result<ExitCode> {
    let mut moderator = args.model.load()?;
    let limit = args.size_limit()?;
    moderator.set_size_limit(limit);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    if args.jsonl {
        return score_jsonl(
            &moderator,
            stdin.lock(),
            &mut stdout.lock(),
            args.threads,
            max_line_bytes(limit),
            args.skip_invalid,
        );
    }
    let bytes = read_comment(stdin.lock(), limit)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        BadInput(format!(
            "stdin is not valid UTF-8: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    // The line end `echo` adds is not part of the comment (nor of its size).
    let text = match text.strip_suffix('\n') {
        Some(t) => t.strip_suffix('\r').unwrap_or(t),
        None => text,
    };
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
            print_verdict(&mut out, &explanation.verdict, limit)?;
            print_evidence(&mut out, &explanation.evidence)?;
        }
    } else {
        let verdict = moderator.score(text);
        if args.json {
            serde_json::to_writer(&mut out, &verdict)?;
            writeln!(out)?;
        } else {
            print_verdict(&mut out, &verdict, limit)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the comment on stdin, but no more of it than can be scored: a
/// few bytes past the size limit (so that the cut can find a character
/// boundary and the verdict knows the comment was longer), the rest left
/// unread. Without a limit, a comment over 64 MiB is an error.
fn read_comment(input: impl Read, limit: Option<SizeLimit>) -> Result<Vec<u8>> {
    let cap = match limit {
        // A UTF-8 character is at most 4 bytes.
        Some(l) => l.max_bytes.saturating_add(4),
        None => UNLIMITED_INPUT_BYTES,
    };
    let mut bytes = Vec::new();
    input
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .context("cannot read stdin")?;
    if bytes.len() <= cap {
        return Ok(bytes);
    }
    if limit.is_none() {
        return Err(BadInput(format!(
            "stdin holds more than {UNLIMITED_INPUT_BYTES} bytes, the longest comment read with --max-bytes 0; \
             give a limit (e.g. --max-bytes 65536) to score the beginning of a longer one"
        ))
        .into());
    }
    bytes.truncate(cap);
    // The read may have stopped inside a character: drop its first bytes.
    if let Err(e) = std::str::from_utf8(&bytes) {
        if e.error_len().is_none() {
            bytes.truncate(e.valid_up_to());
        }
    }
    Ok(bytes)
}

fn print_verdict(out: &mut impl Write, v: &Verdict, limit: Option<SizeLimit>) -> Result<()> {
    writeln!(out, "decision:   {}", v.decision())?;
    let reasons = v.reasons();
    if !reasons.is_empty() {
        writeln!(out, "reasons:    {}", reasons.join(", "))?;
    }
    if let (true, Some(l)) = (v.truncated(), limit) {
        writeln!(
            out,
            "truncated:  longer than --max-bytes {}; only its beginning was scored",
            l.max_bytes
        )?;
    }
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
    id: Id,
    text: String,
}

/// A line's id, written back as it was given.
enum Id {
    /// A string, an integer, a boolean or null: the parsed value writes
    /// back to the same JSON.
    Value(serde_json::Value),
    /// Anything the parsed value would write otherwise, as written in the
    /// line without whitespace: a number with a fraction or an exponent,
    /// or too long for 64 bits ("2.50", "1e3", a 30-digit number), an
    /// object (keys in their order) or an array.
    Json(String),
}

impl Id {
    /// The id of `line`, which parsed to `value`. Only an id the value
    /// would not write back as given costs a scan of the line. (serde_json's
    /// `raw_value` feature would hand over every id's text, but enabling it
    /// slowed the scoring of every line by 4-7%.)
    fn of(line: &str, value: serde_json::Value) -> Id {
        let exact = match &value {
            serde_json::Value::Number(n) => !n.is_f64(),
            serde_json::Value::Object(_) | serde_json::Value::Array(_) => false,
            _ => true,
        };
        if exact {
            return Id::Value(value);
        }
        match member(line, "id") {
            Some(raw) => Id::Json(compact(raw)),
            None => Id::Value(value),
        }
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Id::Value(v) => serde_json::to_writer(out, v),
            Id::Json(json) => {
                out.extend_from_slice(json.as_bytes());
                Ok(())
            }
        }
    }
}

/// The text of the top-level member `name` of the JSON object `line`
/// (well-formed: it was parsed), as written; `None` if it has none.
fn member<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let b = line.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_space(b, i);
        match b.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_end = skip_string(b, i)?;
        let key = &line[i..key_end];
        i = skip_space(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_space(b, i + 1);
        let end = skip_value(b, start)?;
        // A key may be written with escapes ("\u0069d").
        let is_name = match key.contains('\\') {
            false => key.len() == name.len() + 2 && &key[1..key.len() - 1] == name,
            true => serde_json::from_str::<String>(key).is_ok_and(|k| k == name),
        };
        if is_name {
            return Some(&line[start..end]);
        }
        i = end;
    }
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (after its closing quote).
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// The end of the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let (mut depth, mut j) = (0usize, i);
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(
                b.get(j),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                j += 1;
            }
            Some(j)
        }
    }
}

/// The JSON text `raw` (well-formed: it was parsed) without the
/// whitespace outside its strings.
fn compact(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out
}

/// Input lines read for one batch, in one buffer.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    /// Where each line ends in `bytes`.
    ends: Vec<usize>,
    /// With --skip-invalid, the lines too long to read, by position in
    /// the batch; an empty line stands in for each.
    too_long: Vec<usize>,
    /// The input line number of the line before the first.
    first_line: u64,
}

/// How a batch's lines are read.
#[derive(Clone, Copy)]
struct Reading {
    max_line: usize,
    skip_invalid: bool,
}

/// What one thread made of a run of a batch's lines.
struct Run {
    /// One JSON verdict (or error) per line, each ending with a newline.
    json: Vec<u8>,
    scored: u64,
    /// Lines answered with an error (--skip-invalid).
    invalid: u64,
    /// The malformed line the run stopped at.
    failure: Option<BadInput>,
}

impl Batch {
    fn clear(&mut self, first_line: u64) {
        self.bytes.clear();
        self.ends.clear();
        self.too_long.clear();
        self.first_line = first_line;
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn push(&mut self, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
    }

    /// Parses, scores and writes out the lines in `range`.
    fn score(&self, moderator: &Moderator, range: std::ops::Range<usize>, how: Reading) -> Run {
        let mut run = Run {
            json: Vec::with_capacity(range.len() * 256),
            scored: 0,
            invalid: 0,
            failure: None,
        };
        let mut scratch = Scratch::default();
        for i in range {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            let line_no = self.first_line + i as u64 + 1;
            let parsed = match self.too_long.binary_search(&i) {
                Ok(_) => Err((None, too_long(line_no, how.max_line))),
                Err(_) => parse_line(&self.bytes[start..self.ends[i]], line_no),
            };
            let item = match parsed {
                Ok(Some(item)) => item,
                Ok(None) => continue,
                Err((id, e)) if how.skip_invalid => {
                    if let Err(e) = write_error(&mut run.json, id.as_ref(), &e.0) {
                        run.failure = Some(BadInput(format!("line {line_no}: {e}")));
                        break;
                    }
                    run.invalid += 1;
                    continue;
                }
                Err((_, e)) => {
                    run.failure = Some(e);
                    break;
                }
            };
            let verdict = moderator.score_with(&item.text, &mut scratch);
            if let Err(e) = write_verdict(&mut run.json, &item.id, &verdict) {
                run.failure = Some(BadInput(format!("line {line_no}: {e}")));
                break;
            }
            run.scored += 1;
        }
        run
    }
}

/// The error of a line longer than `max_line` bytes.
fn too_long(line_no: u64, max_line: usize) -> BadInput {
    BadInput(format!(
        "line {line_no}: longer than {max_line} bytes, the longest line --jsonl reads \
         (8 x --max-bytes, from 1 to 64 MiB; 64 MiB with --max-bytes 0)"
    ))
}

/// Appends `{"id": id, ...verdict}` and a newline to `out`.
fn write_verdict(out: &mut Vec<u8>, id: &Id, verdict: &Verdict) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    id.write(out)?;
    out.push(b',');
    // The verdict's own object, without its opening brace.
    let at = out.len();
    serde_json::to_writer(&mut *out, verdict)?;
    out.remove(at);
    out.push(b'\n');
    Ok(())
}

/// Appends `{"id": id, "error": message}` (id null if the line gave none)
/// and a newline to `out`.
fn write_error(out: &mut Vec<u8>, id: Option<&Id>, message: &str) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    match id {
        Some(id) => id.write(out)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"error\":");
    serde_json::to_writer(&mut *out, message)?;
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[derive(serde::Deserialize)]
struct InputLine {
    #[serde(default)]
    id: serde_json::Value,
    text: Option<serde_json::Value>,
}

/// A line's comment, `None` for a blank line, or what is wrong with it
/// (with its id, if it has one).
type Parsed = std::result::Result<Option<Item>, (Option<Id>, BadInput)>;

fn parse_line(bytes: &[u8], line: u64) -> Parsed {
    let s = std::str::from_utf8(bytes).map_err(|e| {
        let e = BadInput(format!(
            "line {line}: not valid UTF-8 (invalid byte at offset {} of the line)",
            e.valid_up_to()
        ));
        (None, e)
    })?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    let parsed: InputLine = serde_json::from_str(s).map_err(|e| {
        let e = BadInput(format!(
            "line {line}: expected a JSON object like {{\"id\": 1, \"text\": \"...\"}}: {e}"
        ));
        (None, e)
    })?;
    let id = Id::of(s, parsed.id);
    match parsed.text {
        Some(serde_json::Value::String(text)) => Ok(Some(Item { id, text })),
        Some(_) => Err((
            Some(id),
            BadInput(format!("line {line}: \"text\" must be a string")),
        )),
        None => Err((
            Some(id),
            BadInput(format!("line {line}: missing field \"text\"")),
        )),
    }
}

/// Streams JSON lines through the model in batches: memory stays bounded
/// (no line longer than `max_line` is held, no batch holds more than
/// `BATCH_BYTES` of input), output keeps input order, and each batch is
/// parsed, scored and written out as JSON on all threads, the reading
/// thread only splitting lines. A malformed or over-long line stops the
/// run after every line before it is written, or with `skip_invalid` is
/// answered with an error object.
fn score_jsonl(
    moderator: &Moderator,
    mut input: impl BufRead,
    out: &mut impl Write,
    threads: usize,
    max_line: usize,
    skip_invalid: bool,
) -> Result<ExitCode> {
    const BATCH: usize = 8192;
    const BATCH_BYTES: usize = 16 << 20;
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let how = Reading {
        max_line,
        skip_invalid,
    };
    let (mut line_no, mut scored, mut invalid) = (0u64, 0u64, 0u64);
    let mut buf = Vec::new();
    let mut batch = Batch::default();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    loop {
        batch.clear(line_no);
        let mut failure = None;
        let mut eof = false;
        while batch.len() < BATCH && batch.bytes.len() < BATCH_BYTES {
            let read =
                read_line_limited(&mut input, &mut buf, max_line).context("cannot read stdin")?;
            if read == LineRead::End {
                eof = true;
                break;
            }
            line_no += 1;
            if read == LineRead::TooLong {
                if !skip_invalid {
                    failure = Some(too_long(line_no, max_line));
                    break;
                }
                skip_rest_of_line(&mut input).context("cannot read stdin")?;
                batch.too_long.push(batch.len());
                batch.push(b"");
                continue;
            }
            batch.push(buf.strip_suffix(b"\r").unwrap_or(&buf));
        }
        // Contiguous runs of lines, one per thread, each written to its own
        // buffer; a run stops at its first malformed line.
        // No thread for fewer than 256 lines: more threads than that cost
        // more to start than they save.
        let n_runs = threads.min(batch.len().div_ceil(256)).max(1);
        let per_thread = batch.len().div_ceil(n_runs).max(1);
        let ranges: Vec<_> = (0..batch.len())
            .step_by(per_thread)
            .map(|first| first..(first + per_thread).min(batch.len()))
            .collect();
        let runs = parallel_map(&ranges, n_runs, |range| {
            batch.score(moderator, range.clone(), how)
        });
        for run in runs {
            out.write_all(&run.json)?;
            scored += run.scored;
            invalid += run.invalid;
            if let Some(e) = run.failure {
                failure = Some(e);
                break;
            }
        }
        if let Some(e) = failure {
            out.flush()?;
            return Err(e.into());
        }
        if eof {
            break;
        }
    }
    out.flush()?;
    if invalid > 0 {
        eprintln!("civility: {invalid} invalid line(s) answered with {{\"id\", \"error\"}}");
    } else if scored == 0 {
        return Err(BadInput(
            "no comments on stdin: expected one JSON object per line, like {\"id\": 1, \"text\": \"...\"}"
                .into(),
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_finds_a_top_level_member_as_written() {
        let line = r#" { "text" : "an \"id\": 1, {[", "nested": {"id": 9, "a": [1, {"id": 8}]},
            "\u0069d" : { "b" : [1, "x]}"] } , "z": null }"#;
        assert_eq!(member(line, "id"), Some(r#"{ "b" : [1, "x]}"] }"#));
        assert_eq!(member(line, "z"), Some("null"));
        assert_eq!(member(line, "text"), Some(r#""an \"id\": 1, {[""#));
        assert_eq!(member(line, "missing"), None);
        assert_eq!(member(r#"{"id":-1.5e3}"#, "id"), Some("-1.5e3"));
        assert_eq!(member("[1, 2]", "id"), None);
        assert_eq!(compact(member(line, "id").unwrap()), r#"{"b":[1,"x]}"]}"#);
    }

    #[test]
    fn a_line_is_never_longer_than_with_no_limit() {
        let line = |max| max_line_bytes(Some(SizeLimit::new(max, Oversize::Truncate)));
        assert_eq!(line(1), MIN_LINE_BYTES);
        assert_eq!(line(1 << 20), 8 << 20);
        assert_eq!(line(UNLIMITED_INPUT_BYTES), UNLIMITED_INPUT_BYTES);
        assert_eq!(max_line_bytes(None), UNLIMITED_INPUT_BYTES);
    }

    #[test]
    fn ids_write_back_as_given() {
        let written = |line: &str| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut out = Vec::new();
            Id::of(line, value["id"].clone()).write(&mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            written(r#"{"id": 18446744073709551616}"#),
            "18446744073709551616"
        );
        assert_eq!(written(r#"{"id": -9}"#), "-9");
        assert_eq!(written(r#"{"id": 1.10}"#), "1.10");
        assert_eq!(written(r#"{"id": {"b": 1, "a": 2}}"#), r#"{"b":1,"a":2}"#);
        assert_eq!(written(r#"{"id": "a b"}"#), r#""a b""#);
        assert_eq!(written(r#"{"text": "x"}"#), "null");
    }
}
