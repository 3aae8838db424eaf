//! `civility eval`: the report in JSON and for humans, the held-out split,
//! `--plot` figures, `--compare` of two models and `--perturb`.

use super::{jsonl_with_bad_line_2, small, INSULT, PRAISE};
use crate::util::{
    civility, repo_path, training_count, validation_count, validation_rows_labelled, TestEnv,
};
use serde_json::{json, Value};

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

/// `eval --judgements` on the six rows of `tests/data/judgements-tiny.jsonl`
/// (three categories, one of them the `-` of rows without a category).
fn judge_tiny(extra: &[&str]) -> crate::util::Output {
    let mut args = vec!["eval", "--judgements", "tests/data/judgements-tiny.jsonl"];
    args.extend_from_slice(extra);
    civility(&args, b"")
}

#[test]
fn eval_judgements_json_counts_add_up() {
    let out = judge_tiny(&["--json"]);
    out.assert_success();
    let v = out.json();
    assert_eq!(v["comments"], 6);
    let agreed = v["agreed"].as_u64().unwrap();
    let disagreements = v["disagreements"].as_array().unwrap();
    assert_eq!(agreed + disagreements.len() as u64, 6);
    let lenient = v["too_lenient"].as_u64().unwrap();
    let strict = v["too_strict"].as_u64().unwrap();
    assert_eq!(lenient + strict, disagreements.len() as u64);
    let agreement = v["agreement"].as_f64().unwrap();
    assert!((agreement - agreed as f64 / 6.0).abs() < 1e-12, "{v}");
    // The confusion's rows are the moderator's decisions: 3 allow, 1
    // review, 2 reject; its diagonal is the agreement.
    let counts = v["confusion"]["counts"].as_array().unwrap();
    let row_sums: Vec<u64> = counts
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(row_sums, [3, 1, 2]);
    let diagonal: u64 = (0..3).map(|i| counts[i][i].as_u64().unwrap()).sum();
    assert_eq!(diagonal, agreed);
    let categories: Vec<(&str, u64)> = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap(),
                c["comments"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(categories, [("-", 1), ("insult", 3), ("short", 2)]);
    for d in disagreements {
        assert_ne!(d["expected"], d["got"], "{d}");
        assert!(d["line"].as_u64().unwrap() >= 1, "{d}");
        assert!(d["text"].is_string() && d["incivility"].is_f64(), "{d}");
    }
}

#[test]
fn eval_judgements_prints_the_table_the_confusion_and_the_disagreements() {
    let json = judge_tiny(&["--json"]).json();
    let out = judge_tiny(&[]);
    out.assert_success();
    let s = &out.stdout;
    assert!(s.starts_with("6 judgements: "), "{s}");
    assert!(s.contains("model: allow review reject"), "{s}");
    for category in ["insult ", "short ", "- ", "all "] {
        assert!(
            s.lines().any(|l| l.starts_with(category)),
            "{category}: {s}"
        );
    }
    assert!(s.contains("moderator \\ model"), "{s}");
    let n = json["disagreements"].as_array().unwrap().len();
    if n > 0 {
        assert!(s.contains(&format!("disagreements ({n}")), "{s}");
        let first = &json["disagreements"][0];
        assert!(
            s.contains(&format!("line {}  ", first["line"])),
            "{first}: {s}"
        );
    }
}

#[test]
fn eval_judgements_lists_only_as_many_disagreements_as_asked() {
    // Thresholds that review everything: the three allowed rows disagree.
    let out = judge_tiny(&["--review", "0", "--reject", "1", "--disagreements", "1"]);
    out.assert_success();
    let s = &out.stdout;
    assert_eq!(s.matches("  line ").count(), 1, "{s}");
    assert!(s.contains("the first 1"), "{s}");
    assert!(s.contains("more (--disagreements N"), "{s}");
}

#[test]
fn eval_judgements_reports_a_bad_line_and_an_empty_file() {
    let env = TestEnv::new();
    let bad = env.write(
        "bad.jsonl",
        "{\"text\": \"Fine.\", \"decision\": \"allow\"}\n{\"text\": \"Hm.\", \"decision\": \"maybe\"}\n",
    );
    let out = env.run(&["eval", "--judgements", bad.to_str().unwrap()], b"");
    out.assert_code(2)
        .stderr_has(&format!("{}:2:", bad.display()))
        .stderr_has("\"decision\" must be");
    let missing = env.write("missing.jsonl", "{\"text\": \"Fine.\"}\n");
    env.run(&["eval", "--judgements", missing.to_str().unwrap()], b"")
        .assert_code(2)
        .stderr_has(":1: missing field \"decision\"");
    let empty = env.write("empty.jsonl", "\n");
    env.run(&["eval", "--judgements", empty.to_str().unwrap()], b"")
        .assert_code(2)
        .stderr_has("no judgements");
}

#[test]
fn eval_judgements_takes_no_labelled_data_flags() {
    let out = judge_tiny(&["--split", "all"]);
    out.assert_code(2).stderr_has("cannot be used with");
    let out = civility(&["eval", "--disagreements", "3"], b"");
    out.assert_code(2);
}
