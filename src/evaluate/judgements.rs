//! Moderator judgements: comments with the decision a careful moderator
//! would take, and how often a model takes the same one.
//!
//! A judgement file is JSON Lines, one comment per line:
//!
//! ```json
//! {"text": "Well said.", "decision": "allow", "category": "short", "note": "praise"}
//! ```
//!
//! `text` and `decision` (`allow`, `review` or `reject`) are required;
//! `category` groups the rows in the report (rows without one are counted
//! under `-`) and `note` is free text; other fields are ignored.
//! [`read_judgements`] reads such a file and [`judge`] scores it with a
//! [`Moderator`], giving a [`JudgementReport`]: the share of decisions that
//! are the moderator's, overall and per category, the confusion of the
//! moderator's decisions with the model's, and every row where they differ.

use crate::error::{Error, Result};
use crate::io::{read_line_limited, LineRead, MAX_LINE_BYTES};
use crate::metrics::ConfusionMatrix;
use crate::model::Moderator;
use crate::policy::Decision;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::Path;

/// The category of rows that name none.
pub const NO_CATEGORY: &str = "-";

/// The decisions in the order of the report's counts and confusion rows
/// and columns.
pub const DECISIONS: [Decision; 3] = [Decision::Allow, Decision::Review, Decision::Reject];

/// One comment and the decision a moderator took on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// The comment.
    pub text: String,
    /// The moderator's decision.
    pub decision: Decision,
    /// The kind of comment, for the per-category figures ([`NO_CATEGORY`]
    /// if the row has none).
    pub category: String,
    /// Why the moderator decided so, if the row says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The line of the file the row was read from (0 if it was not read
    /// from a file).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub line: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Agreement within one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryAgreement {
    /// The category.
    pub category: String,
    /// Its rows.
    pub comments: u64,
    /// Rows where the model decided as the moderator did.
    pub agreed: u64,
    /// `agreed / comments`.
    pub agreement: f64,
    /// The model's decisions on its rows: allow, review, reject.
    pub model_decisions: [u64; 3],
}

/// A row where the model's decision is not the moderator's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    /// The line of the file (0 if the row was not read from a file).
    pub line: u64,
    /// The comment.
    pub text: String,
    /// Its category.
    pub category: String,
    /// The moderator's decision.
    pub expected: Decision,
    /// The model's decision.
    pub got: Decision,
    /// The model's P(uncivil).
    pub incivility: f64,
}

/// How often a model decides as the moderator did: what
/// `civility eval --judgements` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgementReport {
    /// Rows scored.
    pub comments: u64,
    /// Rows where the model's decision is the moderator's.
    pub agreed: u64,
    /// `agreed / comments` (0 without rows).
    pub agreement: f64,
    /// Disagreements where the model was more lenient than the moderator
    /// (allowed what should be reviewed, reviewed what should be rejected).
    pub too_lenient: u64,
    /// Disagreements where the model was stricter than the moderator.
    pub too_strict: u64,
    /// Per category, by name.
    pub categories: Vec<CategoryAgreement>,
    /// Rows: the moderator's decision, columns: the model's, both in the
    /// order allow, review, reject.
    pub confusion: ConfusionMatrix,
    /// Every row the model decided otherwise, in file order.
    pub disagreements: Vec<Disagreement>,
}

/// The index of a decision in [`DECISIONS`].
fn index(d: Decision) -> usize {
    match d {
        Decision::Allow => 0,
        Decision::Review => 1,
        Decision::Reject => 2,
    }
}

impl JudgementReport {
    /// The report for judgements and the model's decision and P(uncivil)
    /// on each.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::evaluate::{Judgement, JudgementReport};
    /// use civility::Decision;
    ///
    /// let row = |text: &str, decision, category: &str| Judgement {
    ///     text: text.into(),
    ///     decision,
    ///     category: category.into(),
    ///     note: None,
    ///     line: 0,
    /// };
    /// let rows = [
    ///     row("Well said.", Decision::Allow, "short"),
    ///     row("You idiot.", Decision::Reject, "insult"),
    /// ];
    /// let report = JudgementReport::from_decisions([
    ///     (&rows[0], Decision::Allow, 0.1),
    ///     (&rows[1], Decision::Review, 0.7),
    /// ]);
    /// assert_eq!(report.agreement, 0.5);
    /// assert_eq!(report.too_lenient, 1);
    /// assert_eq!(report.disagreements[0].got, Decision::Review);
    /// ```
    pub fn from_decisions<'a>(
        rows: impl IntoIterator<Item = (&'a Judgement, Decision, f64)>,
    ) -> JudgementReport {
        let mut truth = Vec::new();
        let mut predicted = Vec::new();
        let mut categories: BTreeMap<&str, CategoryAgreement> = BTreeMap::new();
        let mut disagreements = Vec::new();
        let (mut too_lenient, mut too_strict) = (0, 0);
        for (judgement, got, incivility) in rows {
            truth.push(index(judgement.decision));
            predicted.push(index(got));
            let agreed = got == judgement.decision;
            let category =
                categories
                    .entry(&judgement.category)
                    .or_insert_with(|| CategoryAgreement {
                        category: judgement.category.clone(),
                        comments: 0,
                        agreed: 0,
                        agreement: 0.0,
                        model_decisions: [0; 3],
                    });
            category.comments += 1;
            category.agreed += u64::from(agreed);
            category.model_decisions[index(got)] += 1;
            if agreed {
                continue;
            }
            if got < judgement.decision {
                too_lenient += 1;
            } else {
                too_strict += 1;
            }
            disagreements.push(Disagreement {
                line: judgement.line,
                text: judgement.text.clone(),
                category: judgement.category.clone(),
                expected: judgement.decision,
                got,
                incivility,
            });
        }
        let share = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 / whole as f64
            }
        };
        let categories: Vec<CategoryAgreement> = categories
            .into_values()
            .map(|mut c| {
                c.agreement = share(c.agreed, c.comments);
                c
            })
            .collect();
        let comments = truth.len() as u64;
        let agreed = comments - disagreements.len() as u64;
        JudgementReport {
            comments,
            agreed,
            agreement: share(agreed, comments),
            too_lenient,
            too_strict,
            categories,
            confusion: ConfusionMatrix::new(&truth, &predicted, DECISIONS.len()),
            disagreements,
        }
    }
}

/// Scores every judgement with `moderator` on `threads` threads (0 = all
/// cores) and compares its decisions with the moderator's.
///
/// # Examples
///
/// ```
/// use civility::evaluate::{judge, Judgement};
/// use civility::{Decision, Moderator};
///
/// let moderator = Moderator::embedded()?;
/// let rows = [Judgement {
///     text: "Thank you for the careful reporting.".into(),
///     decision: Decision::Allow,
///     category: "short".into(),
///     note: None,
///     line: 0,
/// }];
/// let report = judge(&moderator, &rows, 1);
/// assert_eq!(report.comments, 1);
/// assert_eq!(report.agreed + report.disagreements.len() as u64, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn judge(moderator: &Moderator, judgements: &[Judgement], threads: usize) -> JudgementReport {
    let texts: Vec<&str> = judgements.iter().map(|j| j.text.as_str()).collect();
    let verdicts = super::score_parallel(moderator, &texts, threads);
    JudgementReport::from_decisions(
        judgements
            .iter()
            .zip(&verdicts)
            .map(|(j, v)| (j, v.decision(), v.incivility())),
    )
}

/// Reads a judgement file: JSON Lines, one object per line, such as
/// `{"text": "Well said.", "decision": "allow", "category": "short"}`.
/// `text` and `decision` (`allow`, `review` or `reject`) are required,
/// `category` and `note` optional (see [`Judgement`]); other fields are
/// ignored and blank lines skipped.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read; [`Error::Data`], with the
/// line, for a line that is not a JSON object, lacks `text` or `decision`,
/// has a decision other than `allow`, `review` or `reject`, or a
/// `category` or `note` that is not a string, and for a line longer than
/// [`MAX_LINE_BYTES`]; [`Error::NoData`] if the file has no rows.
///
/// # Examples
///
/// ```
/// use civility::evaluate::read_judgements;
/// use civility::Decision;
///
/// let path = std::env::temp_dir().join("civility-doc-judgements.jsonl");
/// std::fs::write(&path, "{\"text\": \"lol\", \"decision\": \"allow\", \"category\": \"short\"}\n")?;
/// let rows = read_judgements(&path)?;
/// assert_eq!(rows[0].decision, Decision::Allow);
/// assert_eq!(rows[0].line, 1);
///
/// std::fs::write(&path, "{\"text\": \"lol\", \"decision\": \"maybe\"}\n")?;
/// let err = read_judgements(&path).unwrap_err().to_string();
/// assert!(err.contains(":1: "), "{err}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_judgements(path: impl AsRef<Path>) -> Result<Vec<Judgement>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    let mut rows = Vec::new();
    for line in 1.. {
        let fail = |message: String| Error::Data {
            path: path.to_path_buf(),
            line,
            message,
        };
        match read_line_limited(&mut reader, &mut bytes, MAX_LINE_BYTES) {
            Err(e) => return Err(Error::io(path, e)),
            Ok(LineRead::End) => break,
            Ok(LineRead::Line) => {}
            Ok(LineRead::TooLong) => {
                return Err(fail(format!(
                    "line longer than {MAX_LINE_BYTES} bytes, the most a data file's line may hold"
                )))
            }
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            fail(format!(
                "invalid UTF-8 at byte {} of the line",
                e.valid_up_to()
            ))
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let mut judgement = parse_row(text).map_err(fail)?;
        judgement.line = line;
        rows.push(judgement);
    }
    if rows.is_empty() {
        return Err(Error::NoData(format!(
            "{}: no judgements in the file",
            path.display()
        )));
    }
    Ok(rows)
}

/// One line of a judgement file, or what is wrong with it.
fn parse_row(line: &str) -> std::result::Result<Judgement, String> {
    let row: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(row) = row else {
        return Err("expected a JSON object".into());
    };
    let string = |key: &str, required: bool| -> std::result::Result<Option<String>, String> {
        match row.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) if !required => Ok(None),
            None => Err(format!("missing field \"{key}\"")),
            Some(other) => Err(format!("\"{key}\" must be a string, not {other}")),
        }
    };
    let text = string("text", true)?.unwrap_or_default();
    let decision = match string("decision", true)?.as_deref() {
        Some("allow") => Decision::Allow,
        Some("review") => Decision::Review,
        Some("reject") => Decision::Reject,
        other => {
            return Err(format!(
                "\"decision\" must be \"allow\", \"review\" or \"reject\", not {:?}",
                other.unwrap_or_default()
            ))
        }
    };
    Ok(Judgement {
        text,
        decision,
        category: string("category", false)?.unwrap_or_else(|| NO_CATEGORY.into()),
        note: string("note", false)?,
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/data/judgements-tiny.jsonl`: six rows in three categories.
    fn tiny() -> Vec<Judgement> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/judgements-tiny.jsonl");
        read_judgements(path).unwrap()
    }

    #[test]
    fn the_tiny_fixture_reads_with_its_lines_and_categories() {
        let rows = tiny();
        assert_eq!(rows.len(), 6);
        // Line 4 is blank.
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 3, 5, 6, 7]);
        assert_eq!(rows[0].category, "short");
        assert_eq!(rows[5].category, NO_CATEGORY);
        assert_eq!(rows[1].note.as_deref(), Some("name-calling"));
        assert_eq!(rows[2].decision, Decision::Reject);
    }

    #[test]
    fn report_arithmetic_on_the_tiny_fixture() {
        use Decision::{Allow, Reject, Review};
        let rows = tiny();
        // Moderator: allow, reject, reject, review, allow, allow.
        let got = [Allow, Review, Reject, Reject, Allow, Review];
        let report = JudgementReport::from_decisions(
            rows.iter()
                .zip(got)
                .enumerate()
                .map(|(i, (r, g))| (r, g, i as f64 / 10.0)),
        );
        assert_eq!(report.comments, 6);
        assert_eq!(report.agreed, 3);
        assert_eq!(report.agreement, 0.5);
        assert_eq!(report.too_lenient, 1);
        assert_eq!(report.too_strict, 2);
        assert_eq!(
            report.confusion.counts,
            [vec![2, 1, 0], vec![0, 0, 1], vec![0, 1, 1]]
        );
        let categories: Vec<(&str, u64, u64, [u64; 3])> = report
            .categories
            .iter()
            .map(|c| (c.category.as_str(), c.comments, c.agreed, c.model_decisions))
            .collect();
        assert_eq!(
            categories,
            [
                ("-", 1, 0, [0, 1, 0]),
                ("insult", 3, 1, [0, 1, 2]),
                ("short", 2, 2, [2, 0, 0]),
            ]
        );
        assert_eq!(report.categories[1].agreement, 1.0 / 3.0);
        let lines: Vec<u64> = report.disagreements.iter().map(|d| d.line).collect();
        assert_eq!(lines, [2, 5, 7]);
        let d = &report.disagreements[0];
        assert_eq!((d.expected, d.got, d.incivility), (Reject, Review, 0.1));
        assert_eq!(d.category, "insult");
    }

    #[test]
    fn no_rows_make_an_empty_report() {
        let report = JudgementReport::from_decisions([]);
        assert_eq!((report.comments, report.agreement), (0, 0.0));
        assert_eq!(report.confusion.counts, vec![vec![0; 3]; 3]);
    }

    /// The categories `training-data/judgements.jsonl` may use (its README).
    const CATEGORIES: [&str; 15] = [
        "civil_disagreement",
        "criticism",
        "sarcasm",
        "insult",
        "profanity_abuse",
        "positive_profanity",
        "reported_speech",
        "self_identification",
        "group_mention",
        "counter_speech",
        "group_attack",
        "veiled_threat",
        "explicit_threat",
        "short",
        "gibberish",
    ];

    #[test]
    fn our_judgements_parse_and_use_the_listed_categories() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let rows = read_judgements(dir.join("training-data/judgements.jsonl")).unwrap();
        assert!(rows.len() >= 200, "{} rows", rows.len());
        let mut counts = BTreeMap::new();
        for r in &rows {
            assert!(
                CATEGORIES.contains(&r.category.as_str()),
                "line {}: category {:?}",
                r.line,
                r.category
            );
            *counts.entry(r.category.as_str()).or_insert(0) += 1;
        }
        for category in CATEGORIES {
            let n = counts.get(category).copied().unwrap_or(0);
            assert!((10..=25).contains(&n), "{category}: {n} rows");
        }
        // Judgements measure the model and are never trained on: no
        // training configuration names the file.
        for folder in ["models", "tests/data"] {
            for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(!text.contains("judgements"), "{}", path.display());
                }
            }
        }
    }

    #[test]
    fn malformed_rows_are_named() {
        let cases = [
            (r#"{"decision": "allow"}"#, "missing field \"text\""),
            (r#"{"text": "hi"}"#, "missing field \"decision\""),
            (r#"{"text": "hi", "decision": "ban"}"#, "not \"ban\""),
            (
                r#"{"text": "hi", "decision": 2}"#,
                "\"decision\" must be a string",
            ),
            (
                r#"{"text": 3, "decision": "allow"}"#,
                "\"text\" must be a string",
            ),
            (
                r#"{"text": "hi", "decision": "allow", "category": ["a"]}"#,
                "\"category\" must be a string",
            ),
            (r#"["hi", "allow"]"#, "expected a JSON object"),
            (r#"{"text": "hi", "#, "invalid JSON"),
        ];
        for (line, want) in cases {
            let err = parse_row(line).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }

    #[test]
    fn a_bad_line_is_an_error_with_its_number_and_no_rows_is_no_data() {
        let dir = std::env::temp_dir().join(format!("civility-judgements-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.jsonl");
        std::fs::write(
            &bad,
            "{\"text\": \"a\", \"decision\": \"allow\"}\n\n{\"text\": \"b\"}\n",
        )
        .unwrap();
        match read_judgements(&bad) {
            Err(Error::Data { line, message, .. }) => {
                assert_eq!(line, 3);
                assert!(message.contains("decision"), "{message}");
            }
            other => panic!("expected a data error, got {other:?}"),
        }
        let empty = dir.join("empty.jsonl");
        std::fs::write(&empty, "\n\n").unwrap();
        assert!(matches!(read_judgements(&empty), Err(Error::NoData(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
