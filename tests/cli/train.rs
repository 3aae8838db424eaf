//! `civility train`: the model it writes, malformed and missing data,
//! and configuration errors naming the file.

use super::{jsonl_with_bad_line_2, training_lines, INSULT, PRAISE};
use crate::util::{temp_files, tiny_bytes, TestEnv};
use civility::Moderator;
use serde_json::Value;

#[test]
fn train_from_jsonl_writes_a_loadable_model() {
    let env = TestEnv::new();
    let out_path = env.path("m.civ");
    let out = env.train(
        "training-data/comments.jsonl",
        &["incivility", "tone"],
        &[],
        &out_path,
    );
    out.assert_success()
        .stderr_has("trained on")
        .stderr_has(out_path.to_str().unwrap());
    let moderator = Moderator::from_path(&out_path).expect("the model loads");
    let heads: Vec<&str> = moderator.model().heads().map(|h| h.name()).collect();
    assert_eq!(heads, ["incivility", "tone"]);
    assert!(moderator.score(INSULT).incivility() > moderator.score(PRAISE).incivility());
    assert!(temp_files(env.dir()).is_empty());
    // And the binary can use it.
    let out = env.run(
        &["score", "--json", "--model", out_path.to_str().unwrap()],
        INSULT.as_bytes(),
    );
    out.assert_success();
    assert!(out.json()["tone"]["label"].is_string());
}

#[test]
fn train_stops_at_a_malformed_line_naming_file_and_line() {
    let env = TestEnv::new();
    let data = env.write("bad.jsonl", jsonl_with_bad_line_2());
    let out_path = env.path("m.civ");
    let out = env.train(data.to_str().unwrap(), &["incivility"], &[], &out_path);
    out.assert_code(2)
        .stderr_has(&format!("{}:2:", data.display()));
    assert!(!out_path.exists(), "no model is written");
    assert!(temp_files(env.dir()).is_empty());
}

#[test]
fn a_data_line_over_64_mib_is_an_error_even_when_skipping_invalid_rows() {
    let env = TestEnv::new();
    let long = "x".repeat((64 << 20) + 1);
    let jsonl = format!("{{\"text\": \"fine\", \"incivility\": \"civil\"}}\n{long}\n");
    let csv = format!("text,incivility\nfine,civil\n{long},civil\n");
    for (name, data, line) in [("long.jsonl", jsonl, 2), ("long.csv", csv, 3)] {
        let data = env.write(name, data);
        let out_path = env.path("m.civ");
        let out = env.train(
            data.to_str().unwrap(),
            &["incivility"],
            &["--skip-invalid"],
            &out_path,
        );
        out.assert_code(2)
            .stderr_has(&format!("{}:{line}:", data.display()))
            .stderr_has("line longer than 67108864 bytes");
        assert!(!out_path.exists(), "no model is written");
    }
}

#[test]
fn train_skip_invalid_counts_the_bad_line() {
    let env = TestEnv::new();
    let data = env.write("bad.jsonl", jsonl_with_bad_line_2());
    let out_path = env.path("m.civ");
    let report = env.path("report.json");
    let out = env.train(
        data.to_str().unwrap(),
        &["incivility", "tone"],
        &["--skip-invalid", "--report", report.to_str().unwrap()],
        &out_path,
    );
    out.assert_success();
    Moderator::from_path(&out_path).expect("the model loads");
    // The table on stderr: source rows kept holdout dupes unlabelled invalid capped.
    let header = out
        .stderr
        .lines()
        .find(|l| l.starts_with("source"))
        .expect("report table header");
    let columns: Vec<&str> = header.split_whitespace().collect();
    let invalid = columns.iter().position(|c| *c == "invalid").unwrap();
    let row = out
        .stderr
        .lines()
        .find(|l| l.starts_with("bad "))
        .expect("report row of the source");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[invalid], "1", "{row}");
    assert_eq!(cells[1], "61", "every row is counted: {row}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["sources"][0]["invalid"], 1);
    assert_eq!(report["sources"][0]["rows"], 61);
}

#[test]
fn train_from_csv() {
    let env = TestEnv::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["text", "label"]).unwrap();
    for line in training_lines(60) {
        let v: Value = serde_json::from_str(&line).unwrap();
        w.write_record([
            v["text"].as_str().unwrap(),
            v["incivility"].as_str().unwrap(),
        ])
        .unwrap();
    }
    // A text with a comma, quotes and a newline must survive CSV quoting.
    w.write_record(["Well, \"idiot\"\nis what you are", "uncivil"])
        .unwrap();
    let data = env.write("comments.csv", w.into_inner().unwrap());
    let out_path = env.path("csv.civ");
    let out = env.train(data.to_str().unwrap(), &["label"], &[], &out_path);
    out.assert_success();
    let model = civility::Model::from_path(&out_path).unwrap();
    let head = model.heads().next().unwrap();
    assert_eq!(head.name(), "label");
    assert_eq!(head.labels(), ["civil", "uncivil"]);
    let report = model.metadata()["training"]["sources"][0].clone();
    assert_eq!(report["rows"], 61, "{report}");
}

#[test]
fn failed_training_leaves_the_previous_model_untouched() {
    let env = TestEnv::new();
    let out_path = env.write("m.civ", tiny_bytes());
    let before = std::fs::read(&out_path).unwrap();
    // Malformed data: stops while reading.
    let data = env.write("bad.jsonl", jsonl_with_bad_line_2());
    let out = env.train(data.to_str().unwrap(), &["incivility"], &[], &out_path);
    out.assert_code(2);
    assert_eq!(std::fs::read(&out_path).unwrap(), before);
    // Well-formed data with one label only: fails in training.
    let one_label = env.write(
        "one-label.jsonl",
        "{\"text\": \"a\", \"incivility\": \"civil\"}\n{\"text\": \"b\", \"incivility\": \"civil\"}\n",
    );
    let out = env.train(one_label.to_str().unwrap(), &["incivility"], &[], &out_path);
    out.assert_failure().stderr_has("incivility");
    assert_eq!(std::fs::read(&out_path).unwrap(), before);
    assert!(
        temp_files(env.dir()).is_empty(),
        "{:?}",
        temp_files(env.dir())
    );
}

#[test]
fn train_config_with_an_unknown_field_names_the_file() {
    let env = TestEnv::new();
    let config = env.write(
        "bad.toml",
        "unknown_setting = 1\n\n[[heads]]\nname = \"incivility\"\n\n[[sources]]\nname = \"x\"\npath = \"x.jsonl\"\n",
    );
    let out_path = env.path("m.civ");
    let out = env.run(
        &[
            "train",
            "--config",
            config.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ],
        b"",
    );
    out.assert_code(2)
        .stderr_has(config.to_str().unwrap())
        .stderr_has("unknown_setting");
    assert!(!out_path.exists());
}

#[test]
fn train_config_with_an_invalid_value_names_the_file() {
    let env = TestEnv::new();
    let config = env.write(
        "bad.toml",
        "[split]\nholdout = 1.5\n\n[[heads]]\nname = \"incivility\"\n\n[[sources]]\nname = \"x\"\npath = \"x.jsonl\"\n",
    );
    let out = env.run(
        &[
            "train",
            "--config",
            config.to_str().unwrap(),
            "-o",
            env.path("m.civ").to_str().unwrap(),
        ],
        b"",
    );
    out.assert_code(2)
        .stderr_has(config.to_str().unwrap())
        .stderr_has("holdout");
}

#[test]
fn train_from_a_missing_file_names_it() {
    let env = TestEnv::new();
    let missing = env.path("absent.jsonl");
    let out = env.train(
        missing.to_str().unwrap(),
        &["incivility"],
        &[],
        &env.path("m.civ"),
    );
    out.assert_failure().stderr_has(missing.to_str().unwrap());
    let out = env.run(&["train", missing.to_str().unwrap(), "-o", "x.civ"], b"");
    out.assert_code(2).stderr_has("--head");
}

#[test]
fn training_on_no_usable_data_is_bad_input() {
    let env = TestEnv::new();
    let empty = env.write("empty.jsonl", "");
    let one_label = env.write(
        "one.jsonl",
        "{\"text\": \"fine\", \"incivility\": \"civil\"}\n",
    );
    for data in [empty, one_label] {
        env.train(
            data.to_str().unwrap(),
            &["incivility"],
            &[],
            &env.path("m.civ"),
        )
        .assert_code(2)
        .stderr_has("not enough labelled data");
    }
}

/// The eval command a simple-path run printed, as arguments after
/// `civility`, and the number of comments it said it held out.
fn printed_eval(stderr: &str) -> (Vec<String>, u64) {
    let held: u64 = stderr
        .split("held out ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no held-out count in {stderr}"));
    let command = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("civility eval "))
        .unwrap_or_else(|| panic!("no eval command in {stderr}"));
    let args = std::iter::once("eval")
        .chain(command.split_whitespace())
        .map(String::from)
        .collect();
    (args, held)
}

/// `civility train FILE --head ...` on our own comments gives a model that
/// decides as a moderator would on a greeting, praise and an insult, and
/// prints an eval command that measures it on exactly what it held out.
#[test]
fn the_simple_path_gives_a_sensible_model_and_says_what_it_held_out() {
    let env = TestEnv::new();
    let out_path = env.path("m.civ");
    let out = env.train(
        "training-data/comments.jsonl",
        &["incivility"],
        &[],
        &out_path,
    );
    out.assert_success()
        .stderr_has("of 1089 comments (10%) for evaluation")
        .stderr_has("chosen on");
    let moderator = Moderator::from_path(&out_path).unwrap();
    for (comment, decision) in [
        ("hello", civility::Decision::Allow),
        ("Thanks for the clear reporting.", civility::Decision::Allow),
        ("You are an idiot.", civility::Decision::Reject),
    ] {
        let verdict = moderator.score(comment);
        assert_eq!(verdict.decision(), decision, "{comment}: {verdict:?}");
    }
    let (eval, held) = printed_eval(&out.stderr);
    assert!(eval.contains(&"--split".to_string()), "{eval:?}");
    let out = env.run(&eval, b"");
    out.assert_success()
        .stdout_has(&format!("{held} comments:"))
        .stdout_has(&format!("incivility ({held} labelled"));
}

/// `--holdout` sets the fraction, eval follows it, and 0 trains on every
/// comment; with fewer than 50 comments of a label the thresholds are not
/// chosen, and the run says so.
#[test]
fn the_simple_path_holds_out_what_it_is_told() {
    let env = TestEnv::new();
    let data = env.write("few.jsonl", training_lines(60).join("\n") + "\n");
    let data = data.to_str().unwrap();
    let out_path = env.path("m.civ");
    let out = env.train(data, &["incivility"], &["--holdout", "0.25"], &out_path);
    out.assert_success()
        .stderr_has("(25%) for evaluation")
        .stderr_has("--holdout 0.25")
        .stderr_has("warning: incivility:")
        .stderr_has("at least 50 of each");
    let (eval, held) = printed_eval(&out.stderr);
    assert!(held > 0 && held < 60, "{held}");
    env.run(&eval, b"")
        .assert_success()
        .stdout_has(&format!("{held} comments:"));

    let out = env.train(data, &["incivility"], &["--holdout", "0"], &out_path);
    out.assert_success()
        .stderr_has("trained on all 60 comments (--holdout 0)");
    assert!(!out.stderr.contains("held out"), "{}", out.stderr);
    let model = civility::Model::from_path(&out_path).unwrap();
    // No thresholds chosen: review at 0.5 (or just above what a comment
    // with no evidence scores), reject at 0.9.
    let rule = model.policy().main_rule();
    assert!(rule.review.unwrap() >= 0.5, "{rule:?}");
    assert!(rule.reject.unwrap() >= 0.9, "{rule:?}");
}

#[test]
fn holdout_must_be_a_fraction_and_is_for_files_only() {
    let env = TestEnv::new();
    let out_path = env.path("m.civ");
    for bad in ["1", "-0.1", "half", "NaN"] {
        env.train(
            "training-data/comments.jsonl",
            &["incivility"],
            &[&format!("--holdout={bad}")],
            &out_path,
        )
        .assert_code(2)
        .stderr_has("--holdout");
    }
    env.run(
        &[
            "train",
            "--config",
            "tests/data/tiny.toml",
            "--holdout",
            "0",
            "-o",
            out_path.to_str().unwrap(),
        ],
        b"",
    )
    .assert_code(2)
    .stderr_has("--holdout");
    assert!(!out_path.exists());
}
