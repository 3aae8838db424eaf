//! The `civility` binary: output formats, exit codes and error messages.
//! Every run goes through `util::civility`, which also fails the test if
//! any output mentions a panic.
//!
//! One file per subcommand: `score`, `train`, `eval` (with its plots and
//! model comparison) and `info` (with `--help` and usage errors). This file
//! holds the comments and data the files share.

mod eval;
mod info;
mod score;
mod train;

use crate::util::{repo_path, small_model_path};

const INSULT: &str = "You are a stupid idiot and a moron.";
const PRAISE: &str = "Thank you for the careful reporting on the council budget.";

/// The small model's path, as a command-line argument.
fn small() -> String {
    small_model_path().display().to_string()
}

/// The first `n` rows of our training comments, as JSON lines.
fn training_lines(n: usize) -> Vec<String> {
    std::fs::read_to_string(repo_path("training-data/comments.jsonl"))
        .unwrap()
        .lines()
        .take(n)
        .map(str::to_string)
        .collect()
}

/// Sixty good rows with a malformed row inserted as line 2.
fn jsonl_with_bad_line_2() -> String {
    let mut lines = training_lines(60);
    lines.insert(
        1,
        r#"{"text": "unterminated", "incivility": "civil""#.into(),
    );
    lines.join("\n") + "\n"
}
