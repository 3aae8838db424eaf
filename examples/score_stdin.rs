//! Score comments read from stdin, one per line, the way a comment backend
//! would: load the model once, then score each comment with `&self`.
//!
//! ```text
//! printf 'Great piece.\nYou are an idiot.\n' | cargo run --example score_stdin
//! ```
//!
//! A line longer than 1 MiB stops the program with a message instead of
//! being read into memory whole.

use civility::io::{read_line_limited, LineRead};
use civility::{Decision, Moderator};

/// The longest line read; the model scores at most the first 64 KiB of a
/// comment anyway (`SizeLimit::default()`).
const MAX_LINE: usize = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Once, at start-up. Use `Moderator::from_path("my.civ")` for your own model.
    let moderator = Moderator::embedded()?;
    let mut input = std::io::stdin().lock();
    let mut buf = Vec::new();
    for line_no in 1.. {
        match read_line_limited(&mut input, &mut buf, MAX_LINE)? {
            LineRead::End => break,
            LineRead::TooLong => {
                return Err(format!("line {line_no}: longer than {MAX_LINE} bytes").into())
            }
            LineRead::Line => {}
        }
        let comment = String::from_utf8_lossy(&buf);
        let comment = comment.trim_end_matches('\r');
        if comment.trim().is_empty() {
            continue;
        }
        let verdict = moderator.score(comment);
        let action = match verdict.decision() {
            Decision::Allow => "publish",
            Decision::Review => "hold for a moderator",
            Decision::Reject => "reject",
        };
        let flag = if verdict.truncated() {
            " (truncated)"
        } else {
            ""
        };
        println!(
            "{action:<20} P(uncivil)={:.2}{flag}  {comment}",
            verdict.incivility()
        );
    }
    Ok(())
}
