//! Reading text line by line with a bound on the memory a line may take.
//!
//! [`read_line_limited`] reads one line of a [`BufRead`] but never holds
//! more than a given number of its bytes, so input that is one enormous
//! line cannot exhaust memory; [`skip_rest_of_line`] then moves on to the
//! next line. `civility score --jsonl` reads its input this way, and so
//! does the loader of JSON Lines training data, with [`MAX_LINE_BYTES`].

use std::io::BufRead;

/// What [`read_line_limited`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line is in the buffer, without its `\n`.
    Line,
    /// The line is longer than the limit: the buffer holds its first bytes
    /// and the rest of it is still unread.
    TooLong,
    /// The input has ended.
    End,
}

/// The longest line of a JSON Lines data file: 64 MiB. `civility score`
/// reads no longer line either.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// Reads one line of `reader` into `buf` (cleared first), without its
/// `\n`, but never holds more than `max` bytes of it: a longer line is
/// [`LineRead::TooLong`], found without reading the rest of it, so a file
/// that is one enormous line cannot exhaust memory. The last line needs no
/// `\n`.
///
/// # Errors
///
/// The errors of `reader`.
///
/// # Examples
///
/// ```
/// use civility::io::{read_line_limited, LineRead};
///
/// let mut input = &b"{\"text\": \"ok\"}\n{\"text\": \"far too long\"}\n"[..];
/// let mut buf = Vec::new();
/// assert_eq!(read_line_limited(&mut input, &mut buf, 16)?, LineRead::Line);
/// assert_eq!(buf, b"{\"text\": \"ok\"}");
/// assert_eq!(read_line_limited(&mut input, &mut buf, 16)?, LineRead::TooLong);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_line_limited(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineRead> {
    buf.clear();
    loop {
        let available = fill(reader)?;
        if available.is_empty() {
            return Ok(if buf.is_empty() {
                LineRead::End
            } else {
                LineRead::Line
            });
        }
        let (piece, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        if buf.len() + piece.len() > max {
            let room = max - buf.len();
            buf.extend_from_slice(&piece[..room]);
            reader.consume(room);
            return Ok(LineRead::TooLong);
        }
        buf.extend_from_slice(piece);
        let used = piece.len() + usize::from(done);
        reader.consume(used);
        if done {
            return Ok(LineRead::Line);
        }
    }
}

/// The reader's buffered bytes, reading more if there are none (empty at
/// the end of the input); a read interrupted by a signal is retried.
fn fill(reader: &mut impl BufRead) -> std::io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            // The end of the input (a terminal is not read again).
            Ok([]) => return Ok(&[]),
            // Asked again so that the borrow is returned outside the loop;
            // with bytes buffered, no read happens.
            Ok(_) => return reader.fill_buf(),
        }
    }
}

/// Reads and discards the rest of the current line, its `\n` included:
/// after [`LineRead::TooLong`], the next read starts at the next line.
/// Holds no more than the reader's buffer at a time.
pub fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let available = fill(reader)?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = available.len();
                reader.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_within_the_limit() {
        let text = b"abc\n\nabcd\nabcde\nxy";
        // A buffer of 2 bytes makes every line span several reads.
        let mut reader = std::io::BufReader::with_capacity(2, &text[..]);
        let mut buf = Vec::new();
        let mut read = |max| {
            let r = read_line_limited(&mut reader, &mut buf, max).unwrap();
            (r, String::from_utf8(buf.clone()).unwrap())
        };
        assert_eq!(read(4), (LineRead::Line, "abc".into()));
        assert_eq!(read(4), (LineRead::Line, "".into()));
        assert_eq!(read(4), (LineRead::Line, "abcd".into()));
        assert_eq!(read(4), (LineRead::TooLong, "abcd".into()));
        // The rest of the long line is still there.
        assert_eq!(read(4), (LineRead::Line, "e".into()));
        assert_eq!(read(4), (LineRead::Line, "xy".into()));
        assert_eq!(read(4), (LineRead::End, "".into()));
    }

    #[test]
    fn skip_rest_of_line_reads_to_the_next_line() {
        let text = format!("{}\nnext\n{}", "x".repeat(100), "y".repeat(50));
        let mut reader = std::io::BufReader::with_capacity(8, text.as_bytes());
        let mut buf = Vec::new();
        // Each too-long line skipped, the last one without a newline.
        let mut reads = Vec::new();
        for _ in 0..4 {
            let read = read_line_limited(&mut reader, &mut buf, 10).unwrap();
            if read == LineRead::TooLong {
                skip_rest_of_line(&mut reader).unwrap();
            }
            reads.push((read, buf.len()));
        }
        let expected = [
            (LineRead::TooLong, 10),
            (LineRead::Line, 4),
            (LineRead::TooLong, 10),
            (LineRead::End, 0),
        ];
        assert_eq!(reads, expected);
    }
}
