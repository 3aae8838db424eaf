//! The `civility` binary: output formats, exit codes and error messages.
//! Every run goes through `util::civility`, which also fails the test if
//! any output mentions a panic.

use crate::util::{
    assert_verdict_json, civility, repo_path, small_model_path, small_moderator, temp_files,
    tiny_bytes, training_count, validation_count, validation_rows, validation_rows_labelled,
    TestEnv,
};
use civility::{Moderator, Oversize, SizeLimit};
use serde_json::{json, Value};

const INSULT: &str = "You are a stupid idiot and a moron.";
const PRAISE: &str = "Thank you for the careful reporting on the council budget.";

fn small() -> String {
    small_model_path().display().to_string()
}

/// The line `civility score --jsonl` prints for `id` and `text` with the
/// small model, built from the library's own serialization.
fn expected_line(id: impl std::fmt::Display, text: &str) -> String {
    let verdict = serde_json::to_string(&small_moderator().score(text)).unwrap();
    format!("{{\"id\":{id},{}", &verdict[1..])
}

/// `civility score --jsonl` with the small model, then `args`.
fn score_jsonl(args: &[&str], input: &[u8]) -> crate::util::Output {
    let model = small();
    let mut all = vec!["score", "--jsonl", "--model", &model];
    all.extend_from_slice(args);
    civility(&all, input)
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

// ---------------------------------------------------------------- score

#[test]
fn score_human_output_with_embedded_model() {
    let out = civility(&["score"], INSULT.as_bytes());
    out.assert_success();
    assert!(out.stdout.contains("decision:"), "{}", out.stdout);
    assert!(out.stdout.contains("incivility:"), "{}", out.stdout);
    assert!(out.stdout.contains("tone:"), "{}", out.stdout);
    for attribute in crate::util::ATTRIBUTES {
        assert!(out.stdout.contains(attribute), "{}", out.stdout);
    }
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn score_json_has_the_documented_shape() {
    for text in [INSULT, PRAISE, "🙂", "ok"] {
        let out = civility(&["score", "--json"], text.as_bytes());
        out.assert_success();
        assert_eq!(out.stdout.lines().count(), 1, "one JSON object on one line");
        assert_verdict_json(&out.json());
    }
}

#[test]
fn score_json_insult_scores_higher_than_praise() {
    let p = |text: &str| {
        let out = civility(&["score", "--json"], text.as_bytes());
        out.assert_success();
        out.json()["incivility"].as_f64().unwrap()
    };
    let (insult, praise) = (p(INSULT), p(PRAISE));
    assert!(
        insult > praise,
        "P(uncivil) of an insult ({insult}) should exceed that of praise ({praise})"
    );
}

#[test]
fn score_json_explain_lists_evidence_with_spans() {
    let text = "Shut up, you 1d10t";
    let out = civility(
        &["score", "--json", "--explain", "--model", &small()],
        text.as_bytes(),
    );
    out.assert_success();
    let v = out.json();
    assert_verdict_json(&v["verdict"]);
    let evidence = v["evidence"].as_array().expect("evidence array");
    assert!(!evidence.is_empty());
    for e in evidence {
        let start = e["span"]["start"].as_u64().unwrap() as usize;
        let end = e["span"]["end"].as_u64().unwrap() as usize;
        assert_eq!(Some(e["text"].as_str().unwrap()), text.get(start..end));
    }
}

#[test]
fn score_with_model_file_matches_library() {
    let out = civility(&["score", "--json", "--model", &small()], INSULT.as_bytes());
    out.assert_success();
    let expected = serde_json::to_string(&small_moderator().score(INSULT)).unwrap();
    assert_eq!(out.stdout.trim_end(), expected);
}

#[test]
fn score_jsonl_echoes_ids_in_input_order() {
    let input = [
        r#"{"id": 7, "text": "You are a stupid idiot and a moron."}"#,
        "",
        r#"{"id": "abc", "text": "Thank you for the careful reporting."}"#,
        "   ",
        "{\"id\": {\"thread\": 3,\t \"path\": [1, 2]}, \"text\": \"Shut up.\"}",
        r#"{"id": 123456789012345678901234567890, "text": "Big number."}"#,
        r#"{"text": "Id last, with a fraction.", "id": 2.50}"#,
        r#"{"text": "No id on this one."}"#,
        r#"{"id": null, "text": "Explicit null id."}"#,
        r#"{"id": 2.5, "text": "", "extra": true}"#,
        "\t",
        r#"{"text": "Windows line ending", "id": [true]}"#,
    ]
    .join("\n")
    .replace("\"id\": [true]}", "\"id\": [true]}\r");
    let out = score_jsonl(&[], input.as_bytes());
    out.assert_success();
    // Ids come back as written, without whitespace: keys in their order,
    // every digit.
    let expected = [
        ("7", INSULT),
        (r#""abc""#, "Thank you for the careful reporting."),
        (r#"{"thread":3,"path":[1,2]}"#, "Shut up."),
        ("123456789012345678901234567890", "Big number."),
        ("2.50", "Id last, with a fraction."),
        ("null", "No id on this one."),
        ("null", "Explicit null id."),
        ("2.5", ""),
        ("[true]", "Windows line ending"),
    ];
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        expected.len(),
        "one line per non-blank input line"
    );
    for (line, (id, text)) in lines.iter().zip(&expected) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_verdict_json(&v);
        assert_eq!(*line, expected_line(id, text));
    }
}

#[test]
fn score_jsonl_is_the_same_on_any_number_of_threads() {
    let rows: Vec<(String, String)> = validation_rows().into_iter().take(50).collect();
    let input: String = rows
        .iter()
        .map(|(id, text)| json!({"id": id, "text": text}).to_string() + "\n")
        .collect();
    let run = |threads: &str| {
        let out = score_jsonl(&["--threads", threads], input.as_bytes());
        out.assert_success();
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"), "--threads 1 and --threads 2 differ");
    assert_eq!(one, run("0"), "--threads 1 and --threads 0 differ");
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines.len(), 50);
    for (line, (id, text)) in lines.iter().zip(&rows) {
        assert_eq!(*line, expected_line(json!(id), text));
    }
}

#[test]
fn score_jsonl_with_the_embedded_model() {
    let input = format!(
        "{}\n{}\n",
        json!({"id": 1, "text": INSULT}),
        json!({"id": 2, "text": PRAISE})
    );
    let out = civility(&["score", "--jsonl"], input.as_bytes());
    out.assert_success();
    let lines = out.jsonl();
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert_verdict_json(v);
    }
    assert!(lines[0]["incivility"].as_f64() > lines[1]["incivility"].as_f64());
}

#[test]
fn score_jsonl_keeps_order_across_batches() {
    // The binary reads 4096 lines per batch: cross the boundary.
    let n = 4100;
    let input: String = (1..=n)
        .map(|i| json!({"id": i, "text": format!("comment number {i}")}).to_string() + "\n")
        .collect();
    let out = score_jsonl(&["--threads", "3"], input.as_bytes());
    out.assert_success();
    let ids: Vec<u64> = out
        .jsonl()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=n).collect::<Vec<u64>>());
}

#[test]
fn json_output_into_a_closed_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    // The reading end is closed before the model is even loaded, so the
    // first write fails with a broken pipe (inside serde_json for these).
    for args in [&["info"][..], &["score", "--json"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_civility"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(PRAISE.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn score_jsonl_into_a_closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let input: String = (0..5000)
        .map(|i| json!({"id": i, "text": PRAISE}).to_string() + "\n")
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_civility"))
        .args(["score", "--jsonl", "--model", &small()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    // Like `| head -n 1`: read one line, then close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"id\":0,"), "{first}");
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

// ------------------------------------------------------------ bad input

#[test]
fn score_invalid_utf8_names_the_offset() {
    let out = civility(&["score"], b"ok \xff");
    out.assert_code(2)
        .stderr_has("UTF-8")
        .stderr_has("offset 3");
    assert!(out.stdout.is_empty());
    let out = civility(&["score", "--json"], b"\xc3\x28 bad continuation");
    out.assert_code(2).stderr_has("offset 0");
}

#[test]
fn score_empty_or_blank_stdin_is_bad_input() {
    for input in [&b""[..], b" ", b"\n", b"  \t\r\n  \n"] {
        for args in [&["score"][..], &["score", "--json"]] {
            let out = civility(args, input);
            out.assert_code(2).stderr_has("no comment");
            assert!(out.stdout.is_empty(), "{:?}", out.stdout);
        }
    }
    let out = score_jsonl(&[], b"\n  \n");
    out.assert_code(2).stderr_has("no comments");
    assert!(out.stdout.is_empty());
}

#[test]
fn score_jsonl_stops_at_a_bad_line_after_writing_the_good_ones() {
    let good = format!(
        "{}\n{}\n",
        json!({"id": 1, "text": INSULT}),
        json!({"id": 2, "text": PRAISE})
    );
    let after = format!("{}\n", json!({"id": 4, "text": "never scored"}));
    let bad_lines: [(&[u8], &str); 7] = [
        (br#"{"id": 3, "text": "unterminated"#, "JSON"),
        (b"not json at all", "JSON"),
        (br#"{"id": 3, "text": 42}"#, "string"),
        (br#"{"id": 3, "text": null}"#, "text"),
        (br#"{"id": 3, "text": ["a"]}"#, "string"),
        (br#"{"id": 3, "body": "no text field"}"#, "text"),
        (b"{\"id\": 3, \"text\": \"bad \xff byte\"}", "UTF-8"),
    ];
    for (bad, what) in bad_lines {
        let mut input = good.clone().into_bytes();
        input.extend_from_slice(bad);
        input.push(b'\n');
        input.extend_from_slice(after.as_bytes());
        let out = score_jsonl(&[], &input);
        out.assert_code(2).stderr_has("line 3").stderr_has(what);
        let lines = out.jsonl();
        let ids: Vec<&Value> = lines.iter().map(|v| &v["id"]).collect();
        assert_eq!(
            ids,
            [&json!(1), &json!(2)],
            "input {:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn score_jsonl_stops_at_a_bad_line_whichever_thread_parses_it() {
    // Each thread parses its own run of a batch's lines: the bad line may
    // fall in the first run, a middle one or the last.
    let line = |i: usize| json!({"id": i, "text": if i % 2 == 0 { INSULT } else { PRAISE }});
    for bad_at in [1, 5, 10, 17] {
        let mut input = String::new();
        for i in 1..=20 {
            if i == bad_at {
                input.push_str("{\"id\": oops}\n");
            } else {
                input.push_str(&format!("{}\n", line(i)));
            }
        }
        for threads in ["1", "2", "3"] {
            let out = score_jsonl(&["--threads", threads], input.as_bytes());
            out.assert_code(2).stderr_has(&format!("line {bad_at}:"));
            let ids: Vec<Value> = out.jsonl().iter().map(|v| v["id"].clone()).collect();
            let expected: Vec<Value> = (1..bad_at).map(|i| json!(i)).collect();
            assert_eq!(ids, expected, "bad line {bad_at}, {threads} threads");
        }
    }
}

#[test]
fn score_missing_model_file_names_the_path() {
    let env = TestEnv::new();
    let missing = env.path("no-such-model.civ");
    let out = env.run(&["score", "--model", missing.to_str().unwrap()], b"hello");
    out.assert_code(1).stderr_has(missing.to_str().unwrap());
    // The cause once, not once per layer of the error.
    assert_eq!(out.stderr.matches("os error").count(), 1, "{}", out.stderr);
}

#[test]
fn score_damaged_model_file_is_an_error() {
    let env = TestEnv::new();
    // Deterministic pseudo-random bytes (xorshift).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let real = std::fs::read(small_model_path()).unwrap();
    let mut flipped = real.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let cases: [(&str, &[u8]); 5] = [
        ("random.civ", &random),
        ("empty.civ", b""),
        ("truncated.civ", &real[..real.len() / 2]),
        ("short.civ", &real[..20]),
        ("flipped.civ", &flipped),
    ];
    for (name, bytes) in cases {
        let path = env.write(name, bytes);
        let out = env.run(&["score", "--model", path.to_str().unwrap()], b"hello");
        out.assert_code(1).stderr_has("model").stderr_has(name);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn score_rejects_inconsistent_thresholds() {
    for args in [
        &["--review", "0.9", "--reject", "0.5"][..],
        &["--review", "1.5"],
        &["--reject=-0.1"],
        &["--review", "0.95"], // above the model's reject threshold of 0.9
    ] {
        let mut all = vec!["score", "--model", small_model_path().to_str().unwrap()];
        all.extend_from_slice(args);
        let out = civility(&all, PRAISE.as_bytes());
        out.assert_code(2).stderr_has("threshold");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn score_threshold_overrides_change_the_decision() {
    let texts = [
        PRAISE,
        INSULT,
        "Thanks!",
        "I disagree with the mayor on this one.",
    ];
    let input: String = texts
        .iter()
        .map(|t| json!({"text": t}).to_string() + "\n")
        .collect();
    let decisions = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "score",
            "--jsonl",
            "--model",
            small_model_path().to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = civility(&args, input.as_bytes());
        out.assert_success();
        out.jsonl()
            .iter()
            .map(|v| v["decision"].as_str().unwrap().to_string())
            .collect()
    };
    let default = decisions(&[]);
    assert_eq!(default[0], "allow", "praise is allowed by default");
    assert_ne!(default[1], "allow", "the insult is not allowed by default");
    // Review at P >= 0: nothing is allowed any more.
    for d in decisions(&["--review", "0", "--reject", "1"]) {
        assert!(d == "review" || d == "reject", "{d}");
    }
    // Reject at P >= 0: everything is rejected.
    assert!(decisions(&["--review", "0", "--reject", "0"])
        .iter()
        .all(|d| d == "reject"));
    // Praise goes to review once the bar is at zero.
    assert_eq!(decisions(&["--review", "0"])[0], "review");
}

#[test]
fn score_explain_names_the_words() {
    let out = civility(
        &["score", "--explain", "--model", &small()],
        b"Shut up, you 1d10t",
    );
    out.assert_success();
    assert!(out.stdout.contains("decision:"), "{}", out.stdout);
    assert!(out.stdout.contains("raised by:"), "{}", out.stdout);
    assert!(out.stdout.contains("\"1d10t\""), "{}", out.stdout);
}

// ---------------------------------------------------------------- train

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

/// Sixty good rows with a malformed row inserted as line 2.
fn jsonl_with_bad_line_2() -> String {
    let mut lines = training_lines(60);
    lines.insert(
        1,
        r#"{"text": "unterminated", "incivility": "civil""#.into(),
    );
    lines.join("\n") + "\n"
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

// ----------------------------------------------------------------- eval

#[test]
fn eval_json_reports_roc_auc_and_macro_f1() {
    let out = eval_small(&["--json"]);
    out.assert_success();
    let v = out.json();
    assert_eq!(v["comments"], validation_count());
    let decisions: u64 = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .sum();
    assert_eq!(decisions, validation_count());
    let heads = v["heads"].as_array().unwrap();
    let head = |name: &str| heads.iter().find(|h| h["name"] == name).unwrap();
    let incivility = head("incivility");
    assert_eq!(incivility["n"], validation_count());
    let uncivil = validation_rows_labelled("incivility", "uncivil");
    assert_eq!(incivility["binary"]["positives"], uncivil);
    let auc = incivility["binary"]["roc_auc"].as_f64().unwrap();
    assert!(auc > 0.75, "ROC AUC {auc}");
    let tone = head("tone");
    let f1 = tone["multiclass"]["macro_f1"].as_f64().expect("macro_f1");
    assert!((0.0..=1.0).contains(&f1), "macro-F1 {f1}");
    let counts = tone["multiclass"]["confusion"]["counts"]
        .as_array()
        .unwrap();
    assert_eq!(counts.len(), 7);
    let total: u64 = counts
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, validation_count());
}

#[test]
fn eval_human_output_has_roc_auc_and_confusion_matrices() {
    let out = eval_small(&[]);
    out.assert_success();
    let s = &out.stdout;
    assert!(
        s.contains(&format!("{} comments", validation_count())),
        "{s}"
    );
    assert!(s.contains("ROC AUC"), "{s}");
    assert!(s.contains("confusion: TP"), "{s}");
    assert!(s.contains("true\\pred"), "{s}");
    assert!(s.contains("macro-F1"), "{s}");
    for tone in crate::util::TONES {
        assert!(
            s.lines().any(|l| l.trim_start().starts_with(tone)),
            "row {tone}: {s}"
        );
    }
}

#[test]
fn eval_with_config_uses_the_holdout() {
    let out = civility(
        &[
            "eval",
            "--config",
            "tests/data/small.toml",
            "--model",
            &small(),
            "--json",
        ],
        b"",
    );
    out.assert_success();
    let v = out.json();
    // Every validation comment plus the held-out tenth of the training ones.
    let n = v["comments"].as_u64().unwrap();
    let (v_n, t_n) = (validation_count(), training_count());
    assert!(n > v_n && n < v_n + t_n / 5, "{n} comments");
    assert_eq!(v["heads"].as_array().unwrap().len(), 6);
}

#[test]
fn eval_rejects_inconsistent_thresholds() {
    let out = civility(
        &[
            "eval",
            "training-data/validation.jsonl",
            "--model",
            &small(),
            "--head",
            "incivility",
            "--review",
            "0.9",
            "--reject",
            "0.5",
        ],
        b"",
    );
    out.assert_code(2).stderr_has("threshold");
}

#[test]
fn eval_reports_a_malformed_data_line() {
    let env = TestEnv::new();
    let data = env.write("bad.jsonl", jsonl_with_bad_line_2());
    let out = env.run(
        &[
            "eval",
            data.to_str().unwrap(),
            "--model",
            &small(),
            "--head",
            "incivility",
        ],
        b"",
    );
    out.assert_code(2)
        .stderr_has(&format!("{}:2:", data.display()));
}

#[test]
fn eval_only_an_unknown_source_is_bad_input() {
    let out = civility(
        &[
            "eval",
            "--config",
            "tests/data/small.toml",
            "--model",
            &small(),
            "--only",
            "typo",
        ],
        b"",
    );
    out.assert_code(2).stderr_has(
        "tests/data/small.toml: --only names \"typo\", which is not a source (sources: ",
    );
}

// ----------------------------------------------------------- help, info

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

// ------------------------------------------------- eval --plot, --compare

/// The figures `eval --plot` writes for an incivility and a tone head.
const PLOT_FILES: [&str; 4] = [
    "incivility-roc",
    "incivility-pr",
    "incivility-reliability",
    "tone-confusion",
];

/// `civility eval` of the small model on our validation comments, for the
/// incivility and tone heads, with `extra` flags.
fn eval_small(extra: &[&str]) -> crate::util::Output {
    let small = small();
    let mut args = vec![
        "eval",
        "training-data/validation.jsonl",
        "--model",
        &small,
        "--head",
        "incivility",
        "--head",
        "tone",
    ];
    args.extend_from_slice(extra);
    civility(&args, b"")
}

#[test]
fn eval_plot_writes_svg_and_png_per_head() {
    let env = TestEnv::new();
    // A directory that does not exist yet, two levels deep.
    let dir = env.path("plots/small");
    let out = eval_small(&["--plot", dir.to_str().unwrap()]);
    out.assert_success();
    assert!(out.stdout.contains("ROC AUC"), "{}", out.stdout);
    for stem in PLOT_FILES {
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png");
        assert!(png.len() > 1000, "{stem}.png has {} bytes", png.len());
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}.svg");
    }
    // Titles name the head, n and the metric.
    // "incivility (N labelled, ...": the n of the report.
    let n: u64 = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("incivility ("))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no incivility line:\n{}", out.stdout));
    let roc = std::fs::read_to_string(dir.join("incivility-roc.svg")).unwrap();
    assert!(roc.contains("incivility: ROC curve"), "{roc}");
    assert!(roc.contains(&format!("n = {n}")), "{roc}");
    assert!(roc.contains("ROC AUC"), "{roc}");
    let confusion = std::fs::read_to_string(dir.join("tone-confusion.svg")).unwrap();
    assert!(confusion.contains("macro-F1"), "{confusion}");
    let reliability = std::fs::read_to_string(dir.join("incivility-reliability.svg")).unwrap();
    assert!(reliability.contains("ECE"), "{reliability}");
    let pr = std::fs::read_to_string(dir.join("incivility-pr.svg")).unwrap();
    assert!(pr.contains("PR AUC"), "{pr}");
    // Nothing else: no confusion for a binary head, no curves for tone.
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = PLOT_FILES
        .iter()
        .flat_map(|s| [format!("{s}.png"), format!("{s}.svg")])
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn eval_plot_with_json_keeps_stdout_json() {
    let env = TestEnv::new();
    let dir = env.path("plots");
    let out = eval_small(&["--json", "--plot", dir.to_str().unwrap()]);
    out.assert_success();
    assert!(out.json()["heads"].is_array());
    assert!(dir.join("incivility-roc.png").is_file());
}

#[test]
fn eval_plot_under_a_regular_file_fails_naming_the_path() {
    let env = TestEnv::new();
    let file = env.write("not-a-dir", "x");
    let dir = file.join("plots");
    let out = eval_small(&["--plot", dir.to_str().unwrap()]);
    out.assert_code(1).stderr_has(dir.to_str().unwrap());
    assert!(out.stdout.is_empty(), "evaluated anyway:\n{}", out.stdout);
}

#[test]
fn eval_plot_write_error_names_the_file() {
    let env = TestEnv::new();
    let dir = env.path("plots");
    // A directory where the ROC plot's SVG should go.
    let blocker = dir.join("incivility-roc.svg");
    std::fs::create_dir_all(&blocker).unwrap();
    let out = eval_small(&["--plot", dir.to_str().unwrap()]);
    out.assert_code(1).stderr_has(blocker.to_str().unwrap());
}

#[test]
fn eval_compare_prints_both_models_side_by_side() {
    let small_path = small();
    let plain = |model: Option<&str>| -> Value {
        let mut args = vec![
            "eval",
            "training-data/validation.jsonl",
            "--head",
            "incivility",
            "--head",
            "tone",
            "--json",
        ];
        if let Some(m) = model {
            args.extend_from_slice(&["--model", m]);
        }
        let out = civility(&args, b"");
        out.assert_success();
        out.json()
    };
    let (a, b) = (plain(None), plain(Some(&small_path)));
    let out = civility(
        &[
            "eval",
            "training-data/validation.jsonl",
            "--head",
            "incivility",
            "--head",
            "tone",
            "--compare",
            &small_path,
        ],
        b"",
    );
    out.assert_success();
    let s = &out.stdout;
    assert!(s.contains("A: built-in"), "{s}");
    assert!(s.contains(&format!("B: {small_path}")), "{s}");
    assert!(s.contains("B - A"), "{s}");
    let head = |v: &Value, name: &str| -> Value {
        v["heads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == name)
            .unwrap()
            .clone()
    };
    // "  ROC AUC    0.857    0.969   +0.112": A, B and B - A.
    let row = |label: &str, x: f64, y: f64| {
        let expected = [
            format!("{x:.3}"),
            format!("{y:.3}"),
            format!("{:+.3}", y - x),
        ];
        assert!(
            s.lines().any(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                l.trim_start().starts_with(label)
                    && cells.len() >= 3
                    && cells[cells.len() - 3..] == expected
            }),
            "no {label} row with {expected:?}:\n{s}"
        );
    };
    let (ia, ib) = (head(&a, "incivility"), head(&b, "incivility"));
    for (label, key) in [
        ("ROC AUC", "roc_auc"),
        ("PR AUC", "pr_auc"),
        ("ECE", "ece"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("F1", "f1"),
    ] {
        row(
            label,
            ia["binary"][key].as_f64().unwrap(),
            ib["binary"][key].as_f64().unwrap(),
        );
    }
    let (ta, tb) = (head(&a, "tone"), head(&b, "tone"));
    for (label, key) in [("macro-F1", "macro_f1"), ("accuracy", "accuracy")] {
        row(
            label,
            ta["multiclass"][key].as_f64().unwrap(),
            tb["multiclass"][key].as_f64().unwrap(),
        );
    }

    // --json: {"a": evaluation, "b": evaluation}, each as `eval --json`.
    let out = civility(
        &[
            "eval",
            "training-data/validation.jsonl",
            "--head",
            "incivility",
            "--head",
            "tone",
            "--compare",
            &small_path,
            "--json",
        ],
        b"",
    );
    out.assert_success();
    let v = out.json();
    assert_eq!(v["a"], a);
    assert_eq!(v["b"], b);
}

#[test]
fn eval_compare_applies_the_threshold_flags_to_both_models() {
    // Even a value equal to model A's own threshold is applied to B.
    let info = civility(&["info"], b"");
    info.assert_success();
    let own = info.json()["policy"]["rules"][0]["review"]
        .as_f64()
        .unwrap();
    let review = own.to_string();
    let out = civility(
        &[
            "eval",
            "training-data/validation.jsonl",
            "--head",
            "incivility",
            "--compare",
            &small(),
            "--review",
            &review,
            "--reject",
            "0.99",
        ],
        b"",
    );
    out.assert_success();
    let row = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("threshold"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let values: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(values[1], format!("{own:.3}"), "{row}");
    assert_eq!(values[2], format!("{own:.3}"), "{row}");
}

#[test]
fn eval_compare_with_plot_overlays_both_models() {
    let env = TestEnv::new();
    let dir = env.path("plots");
    let small_path = small();
    let out = civility(
        &[
            "eval",
            "training-data/validation.jsonl",
            "--head",
            "incivility",
            "--head",
            "tone",
            "--compare",
            &small_path,
            "--plot",
            dir.to_str().unwrap(),
        ],
        b"",
    );
    out.assert_success();
    for stem in ["incivility-roc", "incivility-pr"] {
        let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("A: built-in"), "{stem}: {svg}");
        assert!(svg.contains("small.civ"), "{stem}: {svg}");
        assert!(svg.contains("(A) vs "), "{stem}: {svg}");
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{stem}.png");
    }
    assert!(dir.join("tone-confusion.png").is_file());
}

#[test]
fn eval_compare_with_a_missing_model_names_it() {
    let env = TestEnv::new();
    let missing = env.path("nope.civ");
    let out = eval_small(&["--compare", missing.to_str().unwrap()]);
    out.assert_failure().stderr_has(missing.to_str().unwrap());
}

#[test]
fn eval_help_shows_plot_and_compare_examples() {
    let out = civility(&["eval", "--help"], b"");
    out.assert_success();
    let examples = out.stdout.split("Examples:").nth(1).unwrap_or("");
    assert!(examples.contains("--plot"), "{}", out.stdout);
    assert!(examples.contains("--compare"), "{}", out.stdout);
}

#[test]
fn eval_compare_applies_threshold_overrides_to_both_models() {
    let out = eval_small(&[
        "--compare",
        "models/default.civ",
        "--review",
        "0.3",
        "--reject",
        "0.8",
        "--json",
    ]);
    out.assert_success();
    let v = out.json();
    for side in ["a", "b"] {
        let incivility = v[side]["heads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "incivility")
            .unwrap();
        assert_eq!(incivility["binary"]["threshold"], 0.3, "{side}");
    }
}

#[test]
fn eval_perturb_reports_every_family() {
    let out = civility(
        &[
            "eval",
            repo_path("training-data/validation.jsonl")
                .to_str()
                .unwrap(),
            "--model",
            &small(),
            "--head",
            "incivility",
            "--perturb",
            "--json",
        ],
        b"",
    );
    out.assert_success();
    let v = out.json();
    assert_eq!(v["comments"], validation_count());
    let families: Vec<&str> = v["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["family"].as_str().unwrap())
        .collect();
    for family in [
        "leetspeak",
        "separators",
        "homoglyphs",
        "zero-width",
        "masked",
    ] {
        assert!(families.contains(&family), "{families:?}");
    }
    let human = civility(
        &[
            "eval",
            repo_path("training-data/validation.jsonl")
                .to_str()
                .unwrap(),
            "--model",
            &small(),
            "--head",
            "incivility",
            "--perturb",
        ],
        b"",
    );
    human.assert_success();
    assert!(human.stdout.contains("leetspeak"), "{}", human.stdout);
}

/// A civil comment of about `len` bytes.
fn long_praise(len: usize) -> String {
    format!("{PRAISE} ").repeat(len / (PRAISE.len() + 1) + 1)
}

#[test]
fn score_cuts_a_comment_over_max_bytes_and_says_so() {
    let text = long_praise(20_000);
    let model = small();
    let json_of = |extra: &[&str]| {
        let mut args = vec!["score", "--json", "--model", &model];
        args.extend_from_slice(extra);
        let out = civility(&args, text.as_bytes());
        out.assert_success();
        out.json()
    };
    // The default limit, 64 KiB, leaves it whole.
    let whole = json_of(&[]);
    assert_eq!(whole.get("truncated"), None);
    assert_eq!(json_of(&["--max-bytes", "0"]), whole);
    // Reading only the beginning of stdin gives the library's verdict on
    // the whole text.
    for (policy, oversize, decision) in [
        ("truncate", Oversize::Truncate, "allow"),
        ("review", Oversize::Review, "review"),
        ("reject", Oversize::Reject, "reject"),
    ] {
        let v = json_of(&["--max-bytes", "1000", "--oversize", policy]);
        assert_eq!(v["truncated"], true);
        assert_eq!(v["decision"], decision, "{policy}");
        let mut moderator = small_moderator().clone();
        moderator.set_size_limit(Some(SizeLimit::new(1000, oversize)));
        let expected = serde_json::to_value(moderator.score(&text)).unwrap();
        assert_eq!(v, expected, "{policy}");
    }
    let out = civility(
        &["score", "--model", &model, "--max-bytes", "1000"],
        text.as_bytes(),
    );
    out.assert_success();
    assert!(out
        .stdout
        .contains("truncated:  longer than --max-bytes 1000"));
    let out = civility(&["score", "--model", &model], text.as_bytes());
    assert!(!out.stdout.contains("truncated"));
    civility(&["score", "--oversize", "drop"], b"hi").assert_code(2);
    civility(&["score", "--max-bytes", "-1"], b"hi").assert_code(2);
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

#[test]
fn score_jsonl_skip_invalid_answers_bad_lines_and_goes_on() {
    let long = json!({"id": 5, "text": "a".repeat(2 << 20)}).to_string();
    let input = [
        json!({"id": 1, "text": INSULT}).to_string(),
        "{not json".to_string(),
        json!({"id": "x", "text": 5}).to_string(),
        long,
        json!({"id": 6}).to_string(),
        String::new(),
        json!({"id": 7, "text": PRAISE}).to_string(),
    ]
    .join("\n");
    for threads in ["1", "2"] {
        let out = score_jsonl(&["--skip-invalid", "--threads", threads], input.as_bytes());
        out.assert_success()
            .stderr_has("4 invalid line(s) answered with {\"id\", \"error\"}");
        let lines = out.jsonl();
        let ids: Vec<&Value> = lines.iter().map(|v| &v["id"]).collect();
        assert_eq!(
            ids,
            [
                &json!(1),
                &Value::Null,
                &json!("x"),
                &Value::Null,
                &json!(6),
                &json!(7)
            ]
        );
        let errors: Vec<&str> = lines.iter().filter_map(|v| v["error"].as_str()).collect();
        assert_eq!(errors.len(), 4);
        for (error, (line, what)) in errors.iter().zip([
            (2, "expected a JSON object"),
            (3, "must be a string"),
            (4, "longer than"),
            (5, "missing field"),
        ]) {
            assert!(error.starts_with(&format!("line {line}: ")), "{error}");
            assert!(error.contains(what), "{error}");
        }
        assert_eq!(lines[0]["decision"], "reject");
        assert_eq!(lines[5]["decision"], "allow");
    }
    // Without the flag, the first bad line stops the run.
    score_jsonl(&[], input.as_bytes())
        .assert_code(2)
        .stderr_has("line 2:");
    // Bad lines in both threads' runs.
    let many: String = (1..=600)
        .map(|i| match i {
            100 | 500 => "{oops\n".to_string(),
            _ => json!({"id": i, "text": PRAISE}).to_string() + "\n",
        })
        .collect();
    let out = score_jsonl(&["--skip-invalid", "--threads", "2"], many.as_bytes());
    out.assert_success().stderr_has("2 invalid line(s)");
    let lines = out.jsonl();
    assert_eq!(lines.len(), 600);
    for (i, v) in lines.iter().enumerate() {
        match i + 1 {
            100 | 500 => assert!(v["error"]
                .as_str()
                .unwrap()
                .starts_with(&format!("line {}:", i + 1))),
            n => assert_eq!(v["id"], json!(n)),
        }
    }
}

#[test]
fn eval_without_heads_measures_the_heads_the_file_labels() {
    let env = TestEnv::new();
    let data = env.write(
        "ours.jsonl",
        format!(
            "{}\n{}\n",
            json!({"text": INSULT, "incivility": "uncivil"}),
            json!({"text": PRAISE, "incivility": "civil"})
        ),
    );
    let out = civility(&["eval", data.to_str().unwrap()], b"");
    out.assert_success();
    assert!(
        out.stdout.contains("incivility (2 labelled, 1 uncivil)"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("insult"), "{}", out.stdout);
    out.stderr_has(
        "not evaluated, no row labels them: insult, profanity, identity_attack, threat, tone",
    );
    // A file that labels none of the model's heads is an error.
    let none = env.write("none.jsonl", "{\"text\": \"hello\", \"stars\": 5}\n");
    civility(&["eval", none.to_str().unwrap()], b"")
        .assert_code(2)
        .stderr_has("no row gives a label to any of the heads");
}

#[test]
fn score_max_bytes_edges() {
    let model = small();
    // The line end echo adds is not part of the comment.
    for input in [&b"Thanks all"[..], b"Thanks all\n", b"Thanks all\r\n"] {
        let out = civility(
            &["score", "--json", "--model", &model, "--max-bytes", "10"],
            input,
        );
        out.assert_success();
        assert_eq!(out.json().get("truncated"), None, "{input:?}");
    }
    // Beyond 64 MiB, and --oversize with no limit, are usage errors.
    let too_big = ((64u64 << 20) + 1).to_string();
    civility(&["score", "--max-bytes", &too_big], b"hi").assert_code(2);
    civility(&["score", "--max-bytes", "18446744073709551615"], b"hi").assert_code(2);
    civility(
        &["score", "--max-bytes", "0", "--oversize", "reject"],
        b"hi",
    )
    .assert_code(2)
    .stderr_has("--oversize");
}

#[test]
fn score_reads_only_the_beginning_of_a_huge_comment() {
    // Ends inside a character at the read limit: still valid UTF-8.
    let text = format!("{}{}", "a".repeat(1001), "é".repeat(4 << 20));
    let out = civility(
        &[
            "score",
            "--json",
            "--model",
            &small(),
            "--max-bytes",
            "1002",
        ],
        text.as_bytes(),
    );
    out.assert_success();
    assert_eq!(out.json()["truncated"], true);
}

#[test]
fn score_jsonl_stops_at_an_overlong_line_after_writing_the_ones_before() {
    let model = small();
    let long_but_fine = long_praise(3000);
    let too_long = "x".repeat((1 << 20) + 1);
    let input = [
        json!({"id": 1, "text": INSULT}).to_string(),
        json!({"id": 2, "text": long_but_fine}).to_string(),
        json!({"id": 3, "text": too_long}).to_string(),
        json!({"id": 4, "text": PRAISE}).to_string(),
    ]
    .join("\n");
    let args = ["score", "--jsonl", "--model", &model, "--max-bytes", "1000"];
    let out = civility(&args, input.as_bytes());
    out.assert_code(2)
        .stderr_has("line 3: longer than 1048576 bytes");
    let lines = out.jsonl();
    let ids: Vec<&Value> = lines.iter().map(|v| &v["id"]).collect();
    assert_eq!(ids, [&json!(1), &json!(2)]);
    assert_eq!(lines[0].get("truncated"), None);
    assert_eq!(lines[1]["truncated"], true);
    // Without the line that is too long, every line is scored.
    let input = input.replace(&too_long, "short");
    let out = civility(&args, input.as_bytes());
    out.assert_success();
    assert_eq!(out.jsonl().len(), 4);
}
