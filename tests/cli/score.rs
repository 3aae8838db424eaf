//! `civility score`: human, JSON and JSON-lines output, threads and
//! batches, closed pipes, bad input and comments over the size limit.

use super::{small, INSULT, PRAISE};
use crate::util::{
    assert_verdict_json, civility, small_model_path, small_moderator, validation_rows, TestEnv,
};
use civility::{Oversize, SizeLimit};
use serde_json::{json, Value};

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

#[test]
fn score_human_output_with_embedded_model() {
    let out = civility(&["score"], INSULT.as_bytes());
    out.assert_success();
    assert!(out.stdout.contains("decision:"), "{}", out.stdout);
    assert!(
        out.stdout.contains("reasons:    incivility."),
        "{}",
        out.stdout
    );
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
