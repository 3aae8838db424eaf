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
use std::io::{BufReader, ErrorKind};
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
    // The csv crate buffers a whole record; a record longer than the limit
    // makes the input fail instead of growing that buffer.
    let capped = RecordCap::new(BufReader::new(file), MAX_LINE_BYTES);
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
            Err(e) => {
                // Not skippable: the rest of the record is unread.
                if let Some(line) = RecordTooLong::line_of(&e) {
                    return Err(too_long(path, line));
                }
                let line = e.position().map_or(0, |p| p.line());
                let message = format!("invalid CSV: {e}");
                (line, Err(data_error(path, line, message)))
            }
        };
        sink.take(line, row)?;
    }
    Ok(())
}

/// A reader that fails once a CSV record runs past `max` bytes, so a
/// reader that buffers whole records (the csv crate) cannot be made to hold
/// an unbounded one. The error it fails with is a [`RecordTooLong`] naming
/// the line the record started on.
///
/// Where records end is learnt from `csv_core`, the parser the csv crate
/// itself runs, with the same (default) settings, fed the same bytes: so a
/// newline inside a quoted field does not end a record, a quote inside an
/// unquoted field (`5" screen`) is text, and both readers agree on every
/// record by construction. A record's length leaves out its terminator and
/// the blank lines before it, which the parser skips.
struct RecordCap<R> {
    inner: R,
    /// The parser, run over the bytes as they pass only to find where
    /// records end.
    parser: csv_core::Reader,
    /// Whether a record has begun since the last one ended.
    in_record: bool,
    /// Bytes of the current record so far.
    len: usize,
    /// The line the current record started on, from 1.
    record_line: u64,
    max: usize,
    /// Once a record has run past `max`: the line it started on.
    tripped: Option<u64>,
    /// Room for the parser's output, which is not used: it is overwritten
    /// whenever it fills.
    fields: Vec<u8>,
    ends: Vec<usize>,
}

/// The error of a [`RecordCap`]: a record longer than the limit.
#[derive(Debug)]
struct RecordTooLong {
    /// The line the record started on.
    line: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("line too long")
    }
}

impl std::error::Error for RecordTooLong {}

impl RecordTooLong {
    /// The line of the record, if `e` is a [`RecordCap`]'s error.
    fn line_of(e: &csv::Error) -> Option<u64> {
        match e.kind() {
            csv::ErrorKind::Io(e) => e.get_ref()?.downcast_ref::<RecordTooLong>(),
            _ => None,
        }
        .map(|t| t.line)
    }
}

impl<R> RecordCap<R> {
    /// Reads `inner`, failing once a record passes `max` bytes.
    fn new(inner: R, max: usize) -> Self {
        RecordCap {
            inner,
            // The csv crate's defaults: `,`, `"` doubled inside quotes, and
            // `\n`, `\r` or `\r\n` ending a record.
            parser: csv_core::Reader::new(),
            in_record: false,
            len: 0,
            record_line: 1,
            max,
            tripped: None,
            fields: vec![0; 4096],
            ends: vec![0; 64],
        }
    }

    /// Follows the records through `input`, failing once one passes the
    /// limit.
    fn track(&mut self, mut input: &[u8]) -> Result<(), RecordTooLong> {
        while !input.is_empty() {
            if !self.in_record {
                // Line terminators between records (blank lines, the `\n`
                // of a `\r\n`) belong to no record; the parser skips them.
                let skip = input
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                self.parse(&input[..skip]);
                input = &input[skip..];
                if input.is_empty() {
                    break;
                }
                self.in_record = true;
                self.len = 0;
                self.record_line = self.parser.line();
            }
            let (ended, used) = self.parse(input);
            // The byte that ended the record is its terminator.
            self.len += used - usize::from(ended);
            if self.len > self.max {
                self.tripped = Some(self.record_line);
                return Err(RecordTooLong {
                    line: self.record_line,
                });
            }
            self.in_record = !ended;
            input = &input[used..];
        }
        Ok(())
    }

    /// Feeds `input` to the parser until a record ends or `input` is used
    /// up: whether a record ended, and how many bytes were used.
    fn parse(&mut self, input: &[u8]) -> (bool, usize) {
        use csv_core::ReadRecordResult;
        let mut used = 0;
        // Never called with no input: to the parser, that is the end of
        // the input.
        while used < input.len() {
            let (result, n, _, _) =
                self.parser
                    .read_record(&input[used..], &mut self.fields, &mut self.ends);
            used += n;
            match result {
                ReadRecordResult::Record => return (true, used),
                ReadRecordResult::InputEmpty | ReadRecordResult::End => break,
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            }
        }
        (false, used)
    }
}

impl<R: std::io::Read> std::io::Read for RecordCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let too_long = |line| std::io::Error::new(ErrorKind::InvalidData, RecordTooLong { line });
        if let Some(line) = self.tripped {
            return Err(too_long(line));
        }
        // Never more than the rest of the allowed record at once.
        let room = (self.max + 1).saturating_sub(self.len).max(1);
        let n = buf.len().min(room);
        let n = self.inner.read(&mut buf[..n])?;
        self.track(&buf[..n]).map_err(|e| too_long(e.line))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Reads `text` through a cap of `max` bytes: `None` if it passes,
    /// else the line of the record that tripped it.
    fn tripped_at(text: &str, max: usize) -> Option<u64> {
        let mut cap = RecordCap::new(text.as_bytes(), max);
        let mut all = Vec::new();
        match cap.read_to_end(&mut all) {
            Ok(_) => {
                assert_eq!(all, text.as_bytes());
                None
            }
            Err(e) => {
                let inner = e.get_ref().and_then(|e| e.downcast_ref::<RecordTooLong>());
                Some(inner.expect("the cap's own error").line)
            }
        }
    }

    #[test]
    fn a_record_cap_fails_past_its_limit_only() {
        let cases: &[(&str, usize, Option<u64>)] = &[
            ("ab\ncd\nefg", 3, None),
            ("ab\ncdefgh\n", 3, Some(2)),
            // Terminators are not counted, `\r\n` and a lone `\r` alike.
            ("abc\r\ndef\r\n", 3, None),
            ("abc\r\ndefg\r\n", 3, Some(2)),
            ("abc\rdef\rghij", 3, Some(1)),
            // Blank lines between records belong to none of them.
            ("a\n\n\n\n\n\nb\n", 1, None),
            ("a\r\n\r\n\r\n\r\nbc\n", 1, Some(5)),
            // A quoted field's newlines do not end the record: a record of
            // short lines is still one record.
            ("a\n\"b\nc\nd\ne\"\nf", 6, Some(2)),
            ("a\n\"b\nc\nd\ne\"\nf", 11, None),
            // A quote inside a field is text, as the csv crate reads it:
            // the short lines after it are records of their own.
            ("a,5\" tv\nb,c\nd,e\nf,\"g\"\"h\"\ni,j\n", 8, None),
            ("a,5\" tv\nb,c\nd,e\nf,\"g\"\"h\"\ni,j\n", 7, Some(4)),
        ];
        for &(text, max, expected) in cases {
            assert_eq!(tripped_at(text, max), expected, "{text:?} at {max}");
        }
    }

    #[test]
    fn a_record_cap_passes_few_bytes_of_a_long_record() {
        let mut long = RecordCap::new(&b"ab\ncdefgh\n"[..], 3);
        let mut some = Vec::new();
        assert!(long.read_to_end(&mut some).is_err());
        assert!(some.len() <= 7, "{some:?}");
        // Failed once, it keeps failing.
        assert!(long.read(&mut [0; 8]).is_err());
    }

    #[test]
    fn a_record_cap_sees_the_records_the_csv_crate_reads() {
        // Quoted newlines, a blank line, `\r\n`, a quote inside a field and
        // a doubled quote: the csv crate reads five records from it.
        let text = "text,label\n\"a\nb\",x\n\r\n5\" tv,y\r\n\"q\"\"uote\",z\nlast,w";
        let records = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.map(|r| r.len()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(records, [2; 5]);
        // Their lengths, terminators left out, are 10, 7, 7, 11 and 6
        // bytes, and they start on lines 1, 2, 5, 6 and 7.
        assert_eq!(tripped_at(text, 11), None);
        assert_eq!(tripped_at(text, 10), Some(6));
        assert_eq!(tripped_at(text, 9), Some(1));
        let without_header = &text[11..];
        assert_eq!(tripped_at(without_header, 7), Some(5));
        assert_eq!(tripped_at(without_header, 6), Some(1));
    }
}
