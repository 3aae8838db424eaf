//! Speed of each pipeline stage and of end-to-end scoring, on our own
//! validation comments and on synthetic comments of fixed lengths; and of
//! scoring hostile input (megabytes of one letter, of exclamation marks,
//! of emoji, of one word, of random characters) with no size limit, to show that the cost
//! stays linear in the length.
//!
//! Run with `cargo bench`; results are summarized in BENCHMARKS.md.

mod common;

use civility::{Moderator, Normalizer, Scratch, Tokenizer, Vectorizer};
use common::{comment_of_length, comments};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn stages(c: &mut Criterion) {
    let all = comments();
    let moderator = Moderator::embedded().expect("embedded model");
    let normalizer = Normalizer::new(moderator.model().pipeline().normalizer.clone());
    let vectorizer =
        Vectorizer::new(moderator.model().pipeline().features.clone()).expect("features");
    let mut group = c.benchmark_group("stage");
    for len in [100usize, 300, 1000, 3000] {
        let text = comment_of_length(&all, 0, len);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("normalize", len), &text, |b, t| {
            b.iter(|| {
                let n = normalizer.normalize(black_box(t));
                assert!(!n.as_str().is_empty());
                n
            })
        });
        let normalized = normalizer.normalize(&text);
        group.bench_with_input(BenchmarkId::new("tokenize", len), &normalized, |b, n| {
            let mut tokens = Vec::new();
            b.iter(|| {
                Tokenizer.tokenize_into(black_box(n), &mut tokens);
                assert!(!tokens.is_empty());
            })
        });
        let tokens = Tokenizer.tokenize(&normalized);
        group.bench_with_input(BenchmarkId::new("features", len), &text, |b, t| {
            // `transform` allocates its result and buffers, which scoring
            // reuses: a little slower than the stage inside `score`.
            b.iter(|| {
                let x = vectorizer.transform(&normalized, black_box(t), &tokens);
                assert!(!x.is_empty());
                x
            })
        });
        group.bench_with_input(BenchmarkId::new("score", len), &text, |b, t| {
            let mut scratch = Scratch::default();
            b.iter(|| {
                let v = moderator.score_with(black_box(t), &mut scratch);
                assert!((0.0..=1.0).contains(&v.incivility()));
                v
            })
        });
    }
    group.finish();
}

fn corpus(c: &mut Criterion) {
    let all = comments();
    let moderator = Moderator::embedded().expect("embedded model");
    let mut group = c.benchmark_group("end_to_end");
    group.throughput(Throughput::Elements(all.len() as u64));
    group.bench_function(BenchmarkId::new("score_batch", all.len()), |b| {
        b.iter(|| {
            let verdicts = moderator.score_batch(black_box(&all));
            assert_eq!(verdicts.len(), all.len());
            verdicts
        })
    });
    group.finish();
}

/// Deterministic random text of `len` bytes or a little more, drawn from
/// letters, digits, leetspeak and mask symbols, punctuation, spaces and
/// newlines, accented and look-alike letters, invisible characters,
/// combining marks, CJK and emoji: every rule of the normalizer fires
/// somewhere.
fn random_mixed(len: usize) -> String {
    let pool: Vec<char> =
        "abcdefghijklmnopqrstuvwxyz ABC012345.,!?*$@#-_'\"é😀👍🏽іοſ\u{200B}\u{301}\n\t東京"
            .chars()
            .collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut s = String::with_capacity(len + 4);
    while s.len() < len {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        s.push(pool[(state % pool.len() as u64) as usize]);
    }
    s
}

/// `unit` repeated to `len` bytes (rounded down to whole units).
fn repeated(unit: &str, len: usize) -> String {
    unit.repeat(len / unit.len())
}

fn hostile(c: &mut Criterion) {
    let mut moderator = Moderator::embedded().expect("embedded model");
    // No limit: the whole input is scored.
    moderator.set_size_limit(None);
    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    for len in [100_000usize, 1_000_000, 10_000_000] {
        let inputs = [
            ("one_char", repeated("a", len)),
            // The worst single character found: every one is a token.
            ("exclamation", repeated("!", len)),
            ("emoji", repeated("😀", len)),
            ("word", repeated("idiot ", len)),
            ("random", random_mixed(len)),
        ];
        for (name, text) in inputs {
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, len), &text, |b, t| {
                b.iter(|| {
                    let v = moderator.score(black_box(t));
                    assert!(!v.truncated());
                    assert!((0.0..=1.0).contains(&v.incivility()));
                    v
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, stages, corpus, hostile);
criterion_main!(benches);
