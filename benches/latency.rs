//! Latency of single calls as percentiles, which criterion does not
//! report: scoring one comment of about 300 bytes (every validation
//! comment starts one, so the calls see different text) and making the
//! embedded default model ready to score.
//!
//! Run with `cargo bench --bench latency`; results are in BENCHMARKS.md.

mod common;

use civility::{Moderator, Scratch};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Prints the percentiles of `times` (sorted in place).
fn report(what: &str, times: &mut [Duration]) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{what:<44} n={:<7} mean {:>9.2?}  p50 {:>9.2?}  p90 {:>9.2?}  p99 {:>9.2?}  p99.9 {:>9.2?}  max {:>9.2?}",
        times.len(),
        mean,
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        at(1.0),
    );
}

fn main() {
    let all = common::comments();
    let texts: Vec<String> = (0..all.len())
        .map(|i| common::comment_of_length(&all, i, 300))
        .collect();
    let mut load = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        black_box(Moderator::embedded().expect("the embedded model loads"));
        load.push(start.elapsed());
    }
    let moderator = Moderator::embedded().expect("the embedded model loads");
    // Warm up caches and the branch predictor for a second.
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        for t in &texts {
            black_box(moderator.score(black_box(t)));
        }
    }
    const CALLS: usize = 200_000;
    let mut score = Vec::with_capacity(CALLS);
    for t in texts.iter().cycle().take(CALLS) {
        let start = Instant::now();
        black_box(moderator.score(black_box(t)));
        score.push(start.elapsed());
    }
    let mut scratch = Scratch::default();
    let mut reuse = Vec::with_capacity(CALLS);
    for t in texts.iter().cycle().take(CALLS) {
        let start = Instant::now();
        black_box(moderator.score_with(black_box(t), &mut scratch));
        reuse.push(start.elapsed());
    }
    report("Moderator::embedded()", &mut load);
    report("score(), 300-byte comments", &mut score);
    report("score_with(), 300-byte comments, one Scratch", &mut reuse);
}
