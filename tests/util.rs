//! Helpers shared by the integration tests: running the `civility` binary,
//! the small and tiny models trained once per test process, and a counting
//! allocator to check that loading a damaged model does not allocate from
//! its length fields.

use civility::data::{Dataset, LoadOptions};
use civility::train::{train, TrainOptions};
use civility::TrainingConfig;
use civility::{Model, Moderator, Verdict};
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The seven tone labels of the default model, in model order.
pub const TONES: [&str; 7] = [
    "anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral",
];

/// The attribute heads of the default model.
pub const ATTRIBUTES: [&str; 4] = ["insult", "profanity", "identity_attack", "threat"];

/// A path relative to the repository root.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, decoded lossily.
    pub stdout: String,
    /// Standard error, decoded lossily.
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing both streams on failure.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts success (exit code 0).
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Asserts a failure (any exit code but 0, not a signal).
    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "expected a non-zero exit code, got {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout does not contain {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// Stdout parsed as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Stdout parsed as JSON lines.
    #[track_caller]
    pub fn jsonl(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("output line is not JSON ({e}): {l}"))
            })
            .collect()
    }
}

/// A scratch directory plus a way to run the binary, in the spirit of fd's
/// `TestEnv`. Commands run from the repository root.
pub struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("cannot create a temporary directory"),
        }
    }

    /// The scratch directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file into the scratch directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("cannot write a test file");
        path
    }

    /// Runs `civility ARGS` with `stdin`; see [`civility`].
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S], stdin: &[u8]) -> Output {
        civility(args, stdin)
    }

    /// Runs `civility train DATA --head H... EXTRA... -o OUT`.
    pub fn train(&self, data: &str, heads: &[&str], extra: &[&str], out: &Path) -> Output {
        let mut args = vec!["train", data];
        for head in heads {
            args.extend(["--head", head]);
        }
        args.extend(extra);
        args.extend(["-o", out.to_str().expect("a UTF-8 path")]);
        civility(&args, b"")
    }
}

/// Runs the `civility` binary with `args`, feeding it `stdin`. Fails the
/// test if any output mentions a panic.
#[track_caller]
pub fn civility<S: AsRef<OsStr>>(args: &[S], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_civility"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the civility binary");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // Write from another thread so a child that prints before reading all
    // of its input cannot deadlock us. The child may exit without reading
    // everything (bad input): a broken pipe here is expected.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("cannot wait for civility");
    writer.join().expect("stdin writer panicked");
    let out = Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        !out.stdout.contains("panicked") && !out.stderr.contains("panicked"),
        "civility {args:?} panicked:\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// The temporary files an atomic save leaves in `dir` if it fails: its
/// temporary file is named `.NAME.tmp-PID`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("cannot list a directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.contains(".tmp-"))
        .collect()
}

/// Trains a model from a configuration file, as `civility train --config`
/// does, on one thread.
pub fn train_from(config: &Path) -> Model {
    let config = TrainingConfig::from_path(config).expect("cannot read the configuration");
    let data = Dataset::load(&config, &LoadOptions::default()).expect("cannot load the data");
    let options = TrainOptions {
        threads: 1,
        progress: None,
    };
    train(&config, &data, &options).expect("training failed").0
}

/// The small model of `tests/data/small.toml` (2^14 features, every head
/// of the default model, our own comments only), trained once per test
/// process, as training returned it.
pub fn small_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| train_from(&repo_path("tests/data/small.toml")))
}

/// The small model's file, saved once per test process under Cargo's
/// temporary directory for tests. Training is deterministic, so concurrent
/// test processes write the same bytes, and the save is atomic.
pub fn small_model_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let model = small_model();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("civility-tests");
        std::fs::create_dir_all(&dir).expect("cannot create the test model directory");
        let path = dir.join("small.civ");
        model.save(&path).expect("cannot save the small model");
        path
    })
}

/// The small model, loaded back from its file: what the CLI tests score
/// with `--model`.
pub fn small_moderator() -> &'static Moderator {
    static MODERATOR: OnceLock<Moderator> = OnceLock::new();
    MODERATOR.get_or_init(|| {
        Moderator::from_path(small_model_path()).expect("cannot load the small model")
    })
}

/// The tiny model of `tests/data/tiny.toml` (2^8 features, 40 comments).
pub fn tiny_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| train_from(&repo_path("tests/data/tiny.toml")))
}

/// The tiny model's file bytes.
pub fn tiny_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut bytes = Vec::new();
        tiny_model()
            .write_to(&mut bytes)
            .expect("cannot serialize the tiny model");
        bytes
    })
}

/// Every row of `training-data/validation.jsonl` as (id, text).
pub fn validation_rows() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_path("training-data/validation.jsonl"))
        .expect("cannot read training-data/validation.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("validation.jsonl is JSON lines");
            (
                v["id"].as_str().expect("id").to_string(),
                v["text"].as_str().expect("text").to_string(),
            )
        })
        .collect()
}

/// Asserts that every head of a verdict has probabilities in [0, 1] that
/// sum to 1, and that the summary accessors agree with them.
#[track_caller]
pub fn assert_valid_verdict(v: &Verdict, what: &str) {
    let mut heads = 0;
    for h in v.heads() {
        heads += 1;
        assert_eq!(
            h.labels.len(),
            h.probabilities.len(),
            "{what}: head {}",
            h.name
        );
        for &p in h.probabilities {
            assert!(
                (0.0..=1.0).contains(&p),
                "{what}: head {} has probability {p}",
                h.name
            );
        }
        let sum: f64 = h.probabilities.iter().sum();
        assert!(
            (sum - 1.0).abs() < 1e-9,
            "{what}: head {} sums to {sum}",
            h.name
        );
    }
    assert!(heads > 0, "{what}: no heads");
    assert!((0.0..=1.0).contains(&v.incivility()), "{what}");
}

/// Asserts that a JSON verdict as `civility score --json` prints it has
/// the documented shape, with the default model's heads.
#[track_caller]
pub fn assert_verdict_json(v: &Value) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    let decision = obj["decision"].as_str().expect("decision is a string");
    assert!(
        ["allow", "review", "reject"].contains(&decision),
        "decision {decision:?}"
    );
    let reasons = obj["reasons"].as_array().expect("reasons is an array");
    assert_eq!(
        reasons.is_empty(),
        decision == "allow",
        "reasons {reasons:?} for {decision}"
    );
    assert!(reasons.iter().all(Value::is_string), "reasons {reasons:?}");
    let p = obj["incivility"].as_f64().expect("incivility is a number");
    assert!((0.0..=1.0).contains(&p), "incivility {p}");
    let attributes = obj["attributes"].as_object().expect("attributes object");
    let mut names: Vec<&str> = attributes.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = ATTRIBUTES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected, "attribute names");
    for (name, p) in attributes {
        let p = p.as_f64().expect("attribute is a number");
        assert!((0.0..=1.0).contains(&p), "attribute {name} = {p}");
    }
    let tone = obj["tone"].as_object().expect("tone object");
    let label = tone["label"].as_str().expect("tone label");
    let scores = tone["scores"].as_object().expect("tone scores");
    let mut labels: Vec<&str> = scores.keys().map(String::as_str).collect();
    labels.sort_unstable();
    let mut expected = TONES.to_vec();
    expected.sort_unstable();
    assert_eq!(labels, expected, "tone labels");
    let sum: f64 = scores.values().map(|p| p.as_f64().expect("number")).sum();
    assert!((sum - 1.0).abs() < 1e-6, "tone scores sum to {sum}");
    let top = scores[label]
        .as_f64()
        .expect("the tone label is one of the scores");
    assert!(
        scores.values().all(|p| p.as_f64().unwrap() <= top),
        "tone label {label} is not the most probable one: {scores:?}"
    );
}

/// The global allocator of the test binary: the system allocator, plus a
/// per-thread record of the largest single allocation and of the number of
/// allocations, so a test can check that some call never asks for a huge
/// buffer, or how often it allocates.
pub struct CountingAlloc;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size);
        }
    });
    let _ = COUNT.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs `f` and returns its result with the largest single allocation it
/// made on this thread, in bytes.
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

/// Runs `f` and returns its result with the number of allocations (and
/// reallocations) it made on this thread.
pub fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = COUNT.with(Cell::get);
    let r = f();
    (r, COUNT.with(Cell::get) - before)
}

/// The number of comments in `training-data/validation.jsonl`.
pub fn validation_count() -> u64 {
    validation_rows().len() as u64
}

/// The number of comments in `training-data/comments.jsonl`.
pub fn training_count() -> u64 {
    std::fs::read_to_string(repo_path("training-data/comments.jsonl"))
        .expect("cannot read training-data/comments.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

/// How many validation comments have `label` for `head`.
pub fn validation_rows_labelled(head: &str, label: &str) -> u64 {
    std::fs::read_to_string(repo_path("training-data/validation.jsonl"))
        .expect("cannot read training-data/validation.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v[head] == label)
        .count() as u64
}
