//! Inputs the fuzzers found, kept as regression tests: every file under
//! `tests/data/fuzz/` goes through the checks of every fuzz target.
//! When a fuzz run finds a crash, copy the artifact here.

use crate::util::repo_path;
use civility::{Decision, Model, Moderator, Normalizer, Oversize, SizeLimit, Tokenizer};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let dir = repo_path("tests/data/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/fuzz")
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("fuzz input"))
        })
        .collect()
}

#[test]
fn fuzz_findings_stay_fixed() {
    let normalizer = Normalizer::default();
    let moderator = Moderator::embedded().unwrap();
    let found = inputs();
    assert!(!found.is_empty());
    for (name, bytes) in found {
        // The model-file target takes raw bytes.
        let _ = Model::from_bytes(&bytes);
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let once = normalizer.normalize(text);
        assert_eq!(
            normalizer.normalize(once.as_str()).as_str(),
            once.as_str(),
            "{name}: normalization is not idempotent"
        );
        for token in Tokenizer.tokenize(&once) {
            assert!(text.is_char_boundary(token.span.start), "{name}");
            assert!(text.is_char_boundary(token.span.end), "{name}");
        }
        let verdict = moderator.score(text);
        assert!((0.0..=1.0).contains(&verdict.incivility()), "{name}");
        // The scoring target also cuts every text in half.
        if !text.is_empty() {
            let limit = SizeLimit::new(text.len() / 2, Oversize::Review);
            let mut limited = moderator.clone();
            limited.set_size_limit(Some(limit));
            let verdict = limited.score(text);
            assert!(verdict.truncated(), "{name}");
            assert!(verdict.decision() >= Decision::Review, "{name}");
            let scored = limit.cut(text).unwrap().len();
            for e in limited.explain(text).evidence {
                assert!(e.span.end <= scored, "{name}");
            }
        }
    }
}
