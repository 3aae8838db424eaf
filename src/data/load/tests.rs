//! Loading: labels, duplicates, `max_rows`, fractional labels and heads
//! left out, on small files written for each test.

use super::*;
use std::path::Path;

#[test]
fn shares_give_single_and_fractional_labels_alike() {
    let e = Example {
        text: "a".into(),
        labels: vec![Some(1), None, None],
        weight: 2.0,
        source: 0,
        part: Part::Train,
        hash: 0,
        fractional: vec![(1, 0, 0.5), (2, 3, 0.25), (1, 2, 0.5)],
    };
    assert_eq!(e.shares(0).collect::<Vec<_>>(), vec![(1, 1.0)]);
    assert_eq!(e.shares(1).collect::<Vec<_>>(), vec![(0, 0.5), (2, 0.5)]);
    assert_eq!(e.shares(2).collect::<Vec<_>>(), vec![(3, 0.25)]);
    assert_eq!(e.shares(3).count(), 0);
}

fn fractional_config(dir: &Path, rows: &str, extra: &str) -> Result<TrainingConfig> {
    std::fs::write(dir.join("rows.jsonl"), rows).unwrap();
    let config = format!(
        "[split]\nholdout = 0.5\n\n[[heads]]\nname = 'tone'\nlabels = ['joy', 'anger', 'fear']\n\n\
         [[heads]]\nname = 'civil'\n\n\
         [[sources]]\nname = 'rows'\npath = 'rows.jsonl'\n\
         heads.tone = {{ field = 'ekman', fractional = true {extra}}}\n\
         heads.civil = {{ field = 'civil' }}\n"
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    TrainingConfig::from_path(&path)
}

#[test]
fn fractional_labels_are_for_training_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::new();
    for i in 0..200 {
        // Multi-label rows, some with a label of another head.
        let civil = if i % 2 == 0 {
            ", \"civil\": \"yes\""
        } else {
            ""
        };
        rows.push_str(&format!(
            "{{\"text\": \"multi {i}\", \"ekman\": [\"joy\", \"fear\"]{civil}}}\n"
        ));
    }
    // A fractional-only row and a later row with the same text and
    // ordinary labels: the later one is kept, unshadowed.
    rows.push_str("{\"text\": \"same text\", \"ekman\": [\"joy\", \"anger\"]}\n");
    rows.push_str("{\"text\": \"Same  text\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n");
    rows.push_str("{\"text\": \"single\", \"ekman\": [\"fear\"], \"civil\": \"yes\"}\n");
    let config = fractional_config(dir.path(), &rows, "").unwrap();
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let report = &data.reports[0];
    assert_eq!(report.rows, 203);
    assert_eq!(report.duplicates, 1);
    for e in data.examples.iter().filter(|e| e.text.starts_with("multi")) {
        let i: usize = e.text[6..].parse().unwrap();
        assert_eq!(e.labels[0], None, "no tone label to evaluate");
        assert_eq!(e.fractional, vec![(0, 0, 0.5), (0, 2, 0.5)]);
        assert_eq!(e.labels[1].is_some(), i % 2 == 0);
        if e.labels[1].is_none() {
            assert_eq!(e.part, Part::Train, "{}", e.text);
        }
    }
    // Rows whose only labels are fractional and that fall in the
    // held-out part are dropped as unlabelled.
    let kept_multi_only = data
        .examples
        .iter()
        .filter(|e| e.text.starts_with("multi") && e.labels[1].is_none())
        .count();
    assert!(
        kept_multi_only > 20 && kept_multi_only < 80,
        "{kept_multi_only}"
    );
    assert_eq!(report.unlabelled as usize, 100 - kept_multi_only);
    let same: Vec<_> = data
        .examples
        .iter()
        .filter(|e| e.text.to_lowercase().starts_with("same"))
        .collect();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].text, "Same  text");
    assert_eq!(same[0].labels[0], Some(1));
    assert!(same[0].fractional.is_empty());
    assert_eq!(report.kept as usize, data.examples.len());
}

#[test]
fn heads_no_row_labels_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.jsonl");
    std::fs::write(
        &path,
        "{\"text\": \"a\", \"incivility\": \"civil\", \"tone\": \"joy\"}\n\
         {\"text\": \"b\", \"incivility\": \"uncivil\", \"tone\": \"anger\"}\n",
    )
    .unwrap();
    let heads: Vec<String> = ["incivility", "insult", "tone"].map(String::from).to_vec();
    let config = TrainingConfig::from_files(&[path], "text", &heads);
    let err = Dataset::load(&config, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("\"insult\""), "{err}");
    let options = LoadOptions {
        drop_unlabelled_heads: true,
        ..LoadOptions::default()
    };
    let data = Dataset::load(&config, &options).unwrap();
    let names: Vec<&str> = data.heads.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["incivility", "tone"]);
    assert_eq!(data.heads[0].positive, Some(1));
    let labels: Vec<Vec<Option<u16>>> = data.examples.iter().map(|e| e.labels.clone()).collect();
    // incivility: civil, uncivil; tone: anger, joy.
    assert_eq!(labels, [vec![Some(0), Some(1)], vec![Some(1), Some(0)]]);

    // Fractional labels move with their head.
    std::fs::write(
        dir.path().join("f.jsonl"),
        "{\"text\": \"a\", \"emotions\": [\"joy\", \"anger\"]}\n\
         {\"text\": \"b\", \"emotions\": [\"joy\"]}\n\
         {\"text\": \"c\", \"emotions\": [\"anger\"]}\n",
    )
    .unwrap();
    let config = "[split]\nholdout = 0.0\n\n\
         [[heads]]\nname = 'x'\n\n[[heads]]\nname = 'tone'\n\n\
         [[sources]]\nname = 's'\npath = 'f.jsonl'\n\
         heads.x = { field = 'x' }\n\
         heads.tone = { field = 'emotions', fractional = true }\n";
    std::fs::write(dir.path().join("c.toml"), config).unwrap();
    let config = TrainingConfig::from_path(dir.path().join("c.toml")).unwrap();
    let data = Dataset::load(&config, &options).unwrap();
    assert_eq!(data.heads.len(), 1);
    let a = data.examples.iter().find(|e| e.text == "a").unwrap();
    assert_eq!(a.labels, [None]);
    assert_eq!(a.fractional, [(0, 1, 0.5), (0, 0, 0.5)]);
}

#[test]
fn rows_left_out_by_max_rows_shadow_no_duplicate() {
    // Source `a` keeps one of "alpha" and "beta"; each also has a row
    // with fractional labels there, and one with ordinary labels in
    // `b`.
    let dir = tempfile::tempdir().unwrap();
    let a = "{\"text\": \"alpha\", \"ekman\": [\"joy\"], \"civil\": \"yes\"}\n\
             {\"text\": \"beta\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n\
             {\"text\": \"alpha\", \"ekman\": [\"joy\", \"fear\"]}\n\
             {\"text\": \"beta\", \"ekman\": [\"anger\", \"fear\"]}\n";
    let b = "{\"text\": \"Alpha\", \"civil\": \"no\"}\n\
             {\"text\": \"Beta\", \"civil\": \"yes\"}\n";
    std::fs::write(dir.path().join("a.jsonl"), a).unwrap();
    std::fs::write(dir.path().join("b.jsonl"), b).unwrap();
    let config = "[split]\nholdout = 0.0\n\n\
         [[heads]]\nname = 'tone'\nlabels = ['joy', 'anger', 'fear']\n\n\
         [[heads]]\nname = 'civil'\nlabels = ['yes', 'no']\n\n\
         [[sources]]\nname = 'a'\npath = 'a.jsonl'\nmax_rows = 1\n\
         heads.tone = { field = 'ekman', fractional = true }\n\
         heads.civil = { field = 'civil' }\n\n\
         [[sources]]\nname = 'b'\npath = 'b.jsonl'\n\
         heads.civil = { field = 'civil' }\n";
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let config = TrainingConfig::from_path(&path).unwrap();
    let load = |only: &[&str]| {
        let options = LoadOptions {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..LoadOptions::default()
        };
        Dataset::load(&config, &options).unwrap()
    };
    let rows = |data: &Dataset, source: usize| -> Vec<(String, bool)> {
        data.examples
            .iter()
            .filter(|e| e.source == source)
            .map(|e| (e.text.to_lowercase(), !e.fractional.is_empty()))
            .collect()
    };
    let counts = |r: &SourceReport| (r.kept, r.capped, r.duplicates);

    // `a` alone: the row the cap keeps, and the fractional twin of the
    // one it leaves out (the kept row's twin is a duplicate).
    let data = load(&["a"]);
    let a = rows(&data, 0);
    assert_eq!(a.len(), 2, "{a:?}");
    let kept = a[0].0.clone();
    let capped = if kept == "alpha" { "beta" } else { "alpha" };
    assert_eq!(a, vec![(kept.clone(), false), (capped.into(), true)]);
    assert_eq!(counts(&data.reports[0]), (2, 1, 1));

    // With `b`: its ordinary twin of the row left out is kept, and
    // shadows a's fractional one.
    let data = load(&[]);
    assert_eq!(rows(&data, 0), vec![(kept, false)]);
    assert_eq!(rows(&data, 1), vec![(capped.into(), false)]);
    assert_eq!(counts(&data.reports[0]), (1, 1, 2));
    assert_eq!(counts(&data.reports[1]), (1, 0, 1));
}

#[test]
fn fractional_labels_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let rows = "{\"text\": \"a\", \"ekman\": [\"joy\", \"disgust\"], \"civil\": \"yes\"}\n\
                {\"text\": \"b\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n";
    let config = fractional_config(dir.path(), rows, "").unwrap();
    assert!(matches!(
        Dataset::load(&config, &LoadOptions::default()),
        Err(Error::Data { line: 1, .. })
    ));
    assert!(matches!(
        fractional_config(dir.path(), rows, ", contains = 'joy', then = 'joy'"),
        Err(Error::Config { .. })
    ));
}
