//! Rows of a source file as JSON objects: one per line of a JSON Lines
//! file, or one per record of a CSV file with its header's names as keys.
//! No line or record may run past [`MAX_LINE_BYTES`], so a malformed file
//! cannot exhaust memory.

use super::load::SourceReport;
use crate::config::{Format, SourceConfig};
use crate::error::{Error, Result};
use crate::io::{read_line_limited, LineRead, MAX_LINE_BYTES};
use serde_json::Value;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// A malformed row: its file, line and what is wrong.
pub(super) fn data_error(path: &Path, line: u64, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// The error for a line (or CSV record) that starts on line `line` and is
/// longer than [`MAX_LINE_BYTES`].
fn too_long(path: &Path, line: u64) -> Error {
    data_error(
        path,
        line,
        format!("line longer than {MAX_LINE_BYTES} bytes, the most a data file's line may hold"),
    )
}

/// Reads `source`'s file and calls `on_row` with each row and its line
/// number (for CSV, the line its record starts on).
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read, [`Error::Data`] for a
/// malformed row unless `skip_invalid` (then it is counted in `report`),
/// and any error of `on_row`. A line longer than [`MAX_LINE_BYTES`] stops
/// reading even with `skip_invalid`: the rest of it is unread.
pub(super) fn read_rows(
    source: &SourceConfig,
    skip_invalid: bool,
    report: &mut SourceReport,
    on_row: &mut dyn FnMut(u64, Value, &mut SourceReport) -> Result<()>,
) -> Result<()> {
    let path = &source.path;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut sink = RowSink {
        skip_invalid,
        report,
        on_row,
    };
    match format(source) {
        Format::Jsonl => read_jsonl(path, file, &mut sink),
        Format::Csv => read_csv(path, file, &mut sink),
    }
}

/// The source's format: as configured, else from the file's extension.
fn format(source: &SourceConfig) -> Format {
    source
        .format
        .unwrap_or_else(|| match source.path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        })
}

/// Where rows go once read.
struct RowSink<'a> {
    skip_invalid: bool,
    report: &'a mut SourceReport,
    on_row: &'a mut dyn FnMut(u64, Value, &mut SourceReport) -> Result<()>,
}

impl RowSink<'_> {
    /// Passes a row on. A malformed row stops reading with its file and
    /// line, or with `skip_invalid` is counted and skipped.
    fn take(&mut self, line: u64, row: Result<Value>) -> Result<()> {
        let result = match row {
            Ok(row) => (self.on_row)(line, row, self.report),
            Err(e) => {
                self.report.rows += 1;
                Err(e)
            }
        };
        match result {
            Err(Error::Data { .. }) if self.skip_invalid => {
                self.report.invalid += 1;
                Ok(())
            }
            other => other,
        }
    }
}

/// Reads a JSON Lines file: one object per line, blank lines skipped.
fn read_jsonl(path: &Path, file: File, sink: &mut RowSink<'_>) -> Result<()> {
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    for n in 1.. {
        match read_line_limited(&mut reader, &mut bytes, MAX_LINE_BYTES) {
            Err(e) => return Err(Error::io(path, e)),
            Ok(LineRead::End) => break,
            Ok(LineRead::Line) => {}
            // Not skippable: the rest of the line is unread.
            Ok(LineRead::TooLong) => return Err(too_long(path, n)),
        }
        if let Some(row) = jsonl_row(path, n, &bytes) {
            sink.take(n, row)?;
        }
    }
    Ok(())
}

/// The object on line `n`, or `None` for a blank line.
fn jsonl_row(path: &Path, n: u64, bytes: &[u8]) -> Option<Result<Value>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let message = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to());
            return Some(Err(data_error(path, n, message)));
        }
    };
    if text.trim().is_empty() {
        return None;
    }
    Some(match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(data_error(path, n, "expected a JSON object".into())),
        Err(e) => Err(data_error(path, n, format!("invalid JSON: {e}"))),
    })
}

/// Reads a CSV file with a header row: one object per record, keyed by the
/// header's names.
fn read_csv(path: &Path, file: File, sink: &mut RowSink<'_>) -> Result<()> {
    // The csv crate buffers a whole record; a line longer than the limit
    // makes the input fail instead of growing that buffer.
    let too_long_at = std::rc::Rc::new(std::cell::Cell::new(None));
    let capped = LineCap::new(BufReader::new(file), MAX_LINE_BYTES, &too_long_at);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(capped);
    let headers = reader
        .headers()
        .map_err(|e| data_error(path, 1, format!("invalid CSV header: {e}")))?
        .clone();
    for record in reader.records() {
        let (line, row) = match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let obj = headers
                    .iter()
                    .zip(r.iter())
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect();
                (line, Ok(Value::Object(obj)))
            }
            // Not skippable: the rest of the line is unread.
            Err(_) if too_long_at.get().is_some() => {
                return Err(too_long(path, too_long_at.get().unwrap_or(0)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = format!("invalid CSV: {e}");
                (line, Err(data_error(path, line, message)))
            }
        };
        sink.take(line, row)?;
    }
    Ok(())
}

/// A reader that fails once a CSV record runs past `max` bytes, setting
/// `tripped` to the number of the line it started on, so a reader that
/// buffers whole records (the csv crate) cannot be made to hold an
/// unbounded one. A newline inside a quoted field does not end the record.
struct LineCap<R> {
    inner: R,
    /// Bytes of the current record so far.
    line: usize,
    /// Where in a field the last byte was, as the csv crate reads it.
    field: Field,
    /// The line the current record started on.
    record_line: u64,
    /// The current line's number, from 1.
    line_no: u64,
    max: usize,
    tripped: std::rc::Rc<std::cell::Cell<Option<u64>>>,
}

/// Where a CSV reader is in a field. As in the csv crate, a quote opens
/// a quoted field only at the start of a field (`5" screen` is plain
/// text), and inside one a doubled quote stands for a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// At the start of a field: after a comma, a record's end, or at the
    /// start of the input.
    Start,
    /// In a field that did not start with a quote.
    Plain,
    /// In a quoted field, where a newline does not end the record.
    Quoted,
    /// Just after a quote in a quoted field: its end, or half of `""`.
    QuoteInQuoted,
}

impl Field {
    fn next(self, b: u8) -> Field {
        match (self, b) {
            (Field::Quoted, b'"') => Field::QuoteInQuoted,
            (Field::Quoted, _) => Field::Quoted,
            (Field::Start | Field::QuoteInQuoted, b'"') => Field::Quoted,
            (_, b',' | b'\n') => Field::Start,
            _ => Field::Plain,
        }
    }
}

impl<R> LineCap<R> {
    /// Reads `inner`, failing once a record passes `max` bytes; the line
    /// the record started on goes into `tripped`.
    fn new(inner: R, max: usize, tripped: &std::rc::Rc<std::cell::Cell<Option<u64>>>) -> Self {
        LineCap {
            inner,
            line: 0,
            field: Field::Start,
            record_line: 1,
            line_no: 1,
            max,
            tripped: std::rc::Rc::clone(tripped),
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tripped.get().is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "line too long",
            ));
        }
        // Never more than the rest of the allowed line at once.
        let room = (self.max + 1).saturating_sub(self.line).max(1);
        let n = buf.len().min(room);
        let n = self.inner.read(&mut buf[..n])?;
        for &b in &buf[..n] {
            self.field = self.field.next(b);
            if b == b'\n' {
                self.line_no += 1;
                if self.field != Field::Quoted {
                    self.line = 0;
                    self.record_line = self.line_no;
                    continue;
                }
            }
            self.line += 1;
            if self.line > self.max {
                self.tripped.set(Some(self.record_line));
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "line too long",
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cap_fails_past_its_limit_only() {
        use std::io::Read;
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let mut ok = LineCap::new(&b"ab\ncd\nefg"[..], 3, &tripped);
        let mut all = Vec::new();
        ok.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"ab\ncd\nefg");
        assert_eq!(tripped.get(), None);
        let mut long = LineCap::new(&b"ab\ncdefgh\n"[..], 3, &tripped);
        let mut some = Vec::new();
        assert!(long.read_to_end(&mut some).is_err());
        assert_eq!(tripped.get(), Some(2));
        // A quoted field's newlines do not end the record: a record of
        // short lines is still one record.
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let mut quoted = LineCap::new(&b"a\n\"b\nc\nd\ne\"\nf"[..], 6, &tripped);
        assert!(quoted.read_to_end(&mut Vec::new()).is_err());
        assert_eq!(tripped.get(), Some(2));
        // A quote inside a field is text, as the csv crate reads it: the
        // short lines after it are records of their own.
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let text = "a,5\" tv\nb,c\nd,e\nf,\"g\"\"h\"\ni,j\n";
        let mut mid = LineCap::new(text.as_bytes(), 8, &tripped);
        let mut all = Vec::new();
        mid.read_to_end(&mut all).unwrap();
        assert_eq!(tripped.get(), None);
        let records = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .count();
        assert_eq!(records, 5);
        assert!(some.len() <= 7, "{some:?}");
    }
}
