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
