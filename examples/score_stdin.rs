//! Score comments read from stdin, one per line, the way a comment backend
//! would: load the model once, then score each comment with `&self`.
//!
//! ```text
//! printf 'Great piece.\nYou are an idiot.\n' | cargo run --example score_stdin
//! ```

use civility::{Decision, Moderator};
use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Once, at start-up. Use `Moderator::from_path("my.civ")` for your own model.
    let moderator = Moderator::embedded()?;
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let comment = line?;
        if comment.trim().is_empty() {
            continue;
        }
        let verdict = moderator.score(&comment);
        let action = match verdict.decision() {
            Decision::Allow => "publish",
            Decision::Review => "hold for a moderator",
            Decision::Reject => "reject",
        };
        println!(
            "{action:<20} P(uncivil)={:.2}  {comment}",
            verdict.incivility()
        );
    }
    Ok(())
}
