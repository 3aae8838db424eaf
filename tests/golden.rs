//! Golden verdicts: every comment of `training-data/validation.jsonl`,
//! scored and compared with the expected verdicts in `tests/data/`.
//!
//! Each line of a golden file is
//! `{"id", "decision", "incivility" (rounded to 4 decimals), "tone"}`.
//!
//! - `golden-small.jsonl`: the small model trained from
//!   `tests/data/small.toml`. Training is deterministic, so this pins the
//!   whole pipeline: normalization, tokenization, features, counting,
//!   calibration, the model file and the policy.
//! - `golden-default.jsonl`: the embedded default model
//!   (`models/default.civ`). It must be re-blessed whenever the default
//!   model is retrained.
//!
//! A change in these verdicts must be deliberate. After checking that it
//! is, rewrite the golden files with
//!
//! ```text
//! CIVILITY_BLESS=1 cargo test --test tests golden
//! ```
//!
//! and review the diff of `tests/data/golden-*.jsonl` before committing.

use crate::util::{repo_path, small_moderator, validation_rows};
use civility::Moderator;
use serde_json::{json, Value};

/// The golden lines of `moderator` on the validation comments.
fn verdict_lines(moderator: &Moderator) -> Vec<String> {
    validation_rows()
        .into_iter()
        .map(|(id, text)| {
            let v = moderator.score(&text);
            let tone = v.tone().map(|t| t.top().0.to_string());
            // Rounded through its decimal text, so the file reads as written.
            let p: f64 = format!("{:.4}", v.incivility()).parse().unwrap();
            format!(
                "{{\"id\":{},\"decision\":\"{}\",\"incivility\":{},\"tone\":{}}}",
                json!(id),
                v.decision(),
                json!(p),
                json!(tone)
            )
        })
        .collect()
}

/// Compares `moderator`'s verdicts with the golden file, or rewrites it
/// when `CIVILITY_BLESS=1`.
fn check_golden(moderator: &Moderator, file: &str) {
    let path = repo_path(file);
    let actual = verdict_lines(moderator);
    if std::env::var_os("CIVILITY_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual.join("\n") + "\n").unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); create it with CIVILITY_BLESS=1",
            path.display()
        )
    });
    let expected: Vec<&str> = expected.lines().collect();
    let mut diffs = Vec::new();
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        let (av, ev): (Value, Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(e).unwrap(),
        );
        if av != ev {
            diffs.push(format!("line {}:\n  expected {e}\n  actual   {a}", i + 1));
        }
    }
    if actual.len() != expected.len() {
        diffs.push(format!(
            "expected {} lines, scored {} comments",
            expected.len(),
            actual.len()
        ));
    }
    assert!(
        diffs.is_empty(),
        "{} verdicts differ from {} (if the change is intended, re-bless with \
         CIVILITY_BLESS=1 cargo test --test tests golden):\n{}",
        diffs.len(),
        path.display(),
        diffs
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn golden_small_model() {
    check_golden(small_moderator(), "tests/data/golden-small.jsonl");
}

#[test]
fn golden_default_model() {
    check_golden(
        &Moderator::embedded().unwrap(),
        "tests/data/golden-default.jsonl",
    );
}
