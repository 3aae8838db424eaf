//! `civility info`, the `--help` of every subcommand, and usage errors.

use super::small;
use crate::util::civility;

#[test]
fn every_subcommand_help_has_examples() {
    for args in [
        &["--help"][..],
        &["score", "--help"],
        &["train", "--help"],
        &["eval", "--help"],
        &["info", "--help"],
        &["help", "score"],
    ] {
        let out = civility(args, b"");
        out.assert_success();
        assert!(
            out.stdout.contains("Examples:"),
            "{args:?}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn info_describes_the_model() {
    let out = civility(&["info", "--model", &small()], b"");
    out.assert_success();
    let v = out.json();
    let heads: Vec<&str> = v["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        heads,
        [
            "incivility",
            "insult",
            "profanity",
            "identity_attack",
            "threat",
            "tone"
        ]
    );
    assert_eq!(v["pipeline"]["features"]["buckets_log2"], 14);
    assert_eq!(v["format_version"], civility::FORMAT_VERSION);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = civility(&["score", "--no-such-flag"], b"hello");
    out.assert_code(2);
    let out = civility(&["score", "--json", "--jsonl"], b"hello");
    out.assert_code(2);
}
