//! Our labelled comments about groups, threats and short texts
//! (`training-data/groups.jsonl`, `training-data/groups-validation.jsonl`):
//! the format `training-data/README.md` describes, and no text shared with
//! each other or with `comments.jsonl` and `validation.jsonl`.

use crate::util::{repo_path, TONES};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// The keys of every row, in this order.
const KEYS: [&str; 9] = [
    "id",
    "text",
    "incivility",
    "insult",
    "profanity",
    "identity_attack",
    "threat",
    "tone",
    "category",
];

/// The attribute flags.
const FLAGS: [&str; 4] = ["insult", "profanity", "identity_attack", "threat"];

/// Categories whose rows are always civil.
const CIVIL: [&str; 12] = [
    "civil_disagreement",
    "praise",
    "question",
    "sarcasm_civil",
    "neutral_report",
    "counter_speech",
    "identity_neutral",
    "negated",
    "reported_speech",
    "positive_profanity",
    "short",
    "gibberish",
];

/// Categories whose rows are always uncivil.
const UNCIVIL: [&str; 6] = [
    "insult",
    "profanity",
    "identity_attack",
    "threat",
    "hostile_other",
    "obfuscated",
];

/// The files checked here: path, id prefix, fewest rows.
const FILES: [(&str, &str, usize); 2] = [
    ("training-data/groups.jsonl", "g", 400),
    ("training-data/groups-validation.jsonl", "gv", 200),
];

/// A JSON object with its keys in the order they were written
/// (`serde_json::Value` sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The non-blank lines of a file under the repository root, numbered from 1.
fn lines(rel: &str) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(repo_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// A text with case and whitespace folded: "  Well\tSAID. " is "well said.".
fn fold(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks one row against the format; `at` is "file:line".
fn check_row(at: &str, row: &Ordered, prefix: &str) {
    let keys: Vec<&str> = row.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, KEYS, "{at}: keys");
    let field: HashMap<&str, &Value> = row.0.iter().map(|(k, v)| (k.as_str(), v)).collect();

    let id = field["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: id is not a string"));
    let number = id
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{at}: id {id:?} does not start with {prefix:?}"));
    assert!(
        number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()),
        "{at}: id {id:?} is not {prefix} and four digits"
    );

    let text = field["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: text is not a string"));
    assert!(!text.trim().is_empty(), "{at}: empty text");
    assert_eq!(text, text.trim(), "{at}: text has surrounding whitespace");

    let incivility = field["incivility"].as_str();
    assert!(
        matches!(incivility, Some("civil" | "uncivil")),
        "{at}: incivility {:?}",
        field["incivility"]
    );
    let uncivil = incivility == Some("uncivil");
    for flag in FLAGS {
        assert!(field[flag].is_boolean(), "{at}: {flag} is not a boolean");
    }
    let tone = field["tone"].as_str().unwrap_or_default();
    assert!(TONES.contains(&tone), "{at}: tone {:?}", field["tone"]);
    let category = field["category"].as_str().unwrap_or_default();
    assert!(
        CIVIL.contains(&category) || UNCIVIL.contains(&category),
        "{at}: category {:?}",
        field["category"]
    );

    // The consistency rules of the README.
    assert_eq!(
        uncivil,
        UNCIVIL.contains(&category),
        "{at}: {category} and {incivility:?}"
    );
    let flag = |name: &str| field[name].as_bool() == Some(true);
    if flag("insult") || flag("identity_attack") || flag("threat") {
        assert!(uncivil, "{at}: an attack must be uncivil");
    }
    if category == "positive_profanity" {
        assert!(
            flag("profanity"),
            "{at}: positive_profanity without profanity"
        );
        assert!(
            !flag("insult") && !flag("identity_attack") && !flag("threat"),
            "{at}: positive_profanity with an attack"
        );
    } else if flag("profanity") {
        assert!(
            uncivil,
            "{at}: profanity outside positive_profanity must be uncivil"
        );
    }
}

#[test]
fn group_files_follow_the_documented_format() {
    for (file, prefix, at_least) in FILES {
        let rows = lines(file);
        assert!(
            rows.len() >= at_least,
            "{file}: {} rows, expected at least {at_least}",
            rows.len()
        );
        let mut ids = HashMap::new();
        for (n, line) in rows {
            let at = format!("{file}:{n}");
            let row: Ordered = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{at}: {e}"));
            check_row(&at, &row, prefix);
            let id = row.0[0].1.as_str().unwrap_or_default().to_string();
            if let Some(first) = ids.insert(id.clone(), n) {
                panic!("{at}: id {id} already on line {first}");
            }
        }
    }
}

#[test]
fn group_texts_appear_in_no_other_file() {
    let others = [
        "training-data/comments.jsonl",
        "training-data/validation.jsonl",
    ];
    let mut seen: HashMap<String, String> = HashMap::new();
    for file in FILES.iter().map(|(f, _, _)| *f).chain(others) {
        for (n, line) in lines(file) {
            let row: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{file}:{n}: {e}"));
            let text = fold(row["text"].as_str().unwrap_or_default());
            let at = format!("{file}:{n}");
            if let Some(first) = seen.insert(text, at.clone()) {
                // The older files are checked by their own tools; only a
                // text of the group files may not repeat.
                let older = |at: &str| others.iter().any(|o| at.starts_with(o));
                assert!(
                    older(&at) && older(&first),
                    "{at}: the same text as {first}"
                );
            }
        }
    }
}

#[test]
fn folding_ignores_case_and_whitespace_only() {
    assert_eq!(fold("  Well\tSAID. "), "well said.");
    assert_eq!(fold("Yes\n yes"), "yes yes");
    assert_ne!(fold("Yes"), fold("Yes."));
}
