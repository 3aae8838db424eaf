//! Refined heads: naive Bayes weights corrected by a regression that
//! keeps them as its prior (see `model/refine.rs`), fitted once per
//! cross-fitting fold and once on everything, on disguised copies of the
//! comments too.

use super::balance::weight;
use super::{Folds, Reporter, Stage};
use crate::config::TrainingConfig;
use crate::data::{Dataset, Example};
use crate::features::{SparseRef, SparseRows, SparseVec};
use crate::model::naive_bayes::{Head, HeadWeights};
use crate::model::refine;
use crate::parallel::parallel_map;
use crate::pipeline::{Pipeline, Scratch};

/// What the refinement of heads needs from training.
pub(super) struct RefineInput<'a, 'e> {
    pub train: &'a [&'e Example],
    pub vectors: &'a SparseRows,
    /// Disguised copies of training comments: (index in `train`, vector).
    pub disguised: &'a [(usize, SparseVec)],
    pub balance: &'a [Vec<Vec<f32>>],
    pub total: &'a [Head],
    pub fold_heads: &'a [Vec<Head>],
    pub folds: Folds,
}

/// For each head with a `refine` setting, its refined weights: one per
/// cross-fitting fold (fitted without that fold), then one fitted on every
/// training comment. The fits run on `threads` threads; each is seeded by
/// its fold, so the result does not depend on the threads.
pub(super) fn refine_heads(
    config: &TrainingConfig,
    data: &Dataset,
    input: &RefineInput<'_, '_>,
    threads: usize,
    progress: &Reporter<'_>,
) -> Vec<Option<Vec<HeadWeights>>> {
    let folds = if input.folds.cross_fit {
        input.folds.n
    } else {
        0
    };
    // (head, fold), where fold == folds means "no fold left out".
    let jobs: Vec<(usize, usize)> = config
        .heads
        .iter()
        .enumerate()
        .filter(|(_, hc)| hc.refine.is_some())
        .flat_map(|(h, _)| (0..=folds).map(move |f| (h, f)))
        .collect();
    let fit = |&(h, f): &(usize, usize)| -> HeadWeights {
        let positive = data.heads[h].positive;
        let mut nb = input.total[h].clone();
        if f < folds {
            nb.merge(&input.fold_heads[f][h], -1.0);
        }
        let settings = config.heads[h].refine.expect("a refined head");
        let in_fit = |e: &Example| f == folds || input.folds.of(e.hash) != f;
        // Only a binary head trains on the disguised copies.
        let copies = positive.is_some() && settings.augment;
        let rows = refine_rows(input, h, copies, in_fit).into_iter();
        match positive {
            Some(p) => {
                let rows: Vec<refine::Row> = rows
                    .map(|(x, c, weight)| refine::Row {
                        x,
                        positive: c == p,
                        weight,
                    })
                    .collect();
                refine::refine(&nb.scoring_weights(positive), &rows, &settings, f as u64)
            }
            None => {
                let rows: Vec<refine::ClassRow> = rows
                    .map(|(x, class, weight)| refine::ClassRow { x, class, weight })
                    .collect();
                refine::refine_classes(
                    &nb.scoring_weights(None),
                    nb.spec.n_features,
                    &rows,
                    &settings,
                    f as u64,
                )
            }
        }
    };
    // Most of a refined model's training: the bar moves with each fit.
    progress.report(Stage::Refining, 0, jobs.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let fits = parallel_map(&jobs, threads, |job| {
        let w = fit(job);
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress.report(Stage::Refining, d, jobs.len());
        w
    });
    let mut out: Vec<Option<Vec<HeadWeights>>> = vec![None; config.heads.len()];
    for (&(h, _), w) in jobs.iter().zip(fits) {
        out[h].get_or_insert_with(Vec::new).push(w);
    }
    out
}

/// The rows the refinement of head `h` fits on, as (features, label,
/// training weight): one per label of the head that a comment accepted by
/// `in_fit` carries, fractional labels at their share, and then the same
/// for the disguised copies when `copies` is set.
///
/// The refinement corrects the naive Bayes weights on the data they were
/// counted from, so it sees the same rows at the same weights, a binary
/// head's fractional labels included: a comment the counts saw but the fit
/// did not would keep its naive Bayes weight with nothing to correct it.
pub(super) fn refine_rows<'a>(
    input: &RefineInput<'a, '_>,
    h: usize,
    copies: bool,
    in_fit: impl Fn(&Example) -> bool,
) -> Vec<(SparseRef<'a>, usize, f64)> {
    let copies = input
        .disguised
        .iter()
        .filter(|_| copies)
        .map(|(i, x)| (input.train[*i], x.view()));
    input
        .train
        .iter()
        .copied()
        .zip(input.vectors.iter())
        .chain(copies)
        .filter(|(e, _)| in_fit(e))
        .flat_map(|(e, x)| {
            e.shares(h)
                .map(move |(c, share)| (x, c, f64::from(weight(e, h, c, share, input.balance))))
        })
        .collect()
}

/// Disguised copies of the training comments (see [`Refine::augment`](crate::Refine::augment)),
/// when a refined head asks for them: the words are those the first such
/// head's naive Bayes weights push toward its positive label most, and the
/// family is chosen by the comment's hash, so the copies do not depend on
/// the threads. Each copy is (index in `train`, its features).
pub(super) fn disguise_all(
    config: &TrainingConfig,
    data: &Dataset,
    pipeline: &Pipeline,
    train: &[&Example],
    total: &[Head],
    threads: usize,
) -> Vec<(usize, SparseVec)> {
    // Only binary heads use the copies: the first binary head that asks.
    let Some(h) = (0..config.heads.len()).find(|&h| {
        data.heads[h].positive.is_some() && config.heads[h].refine.is_some_and(|r| r.augment)
    }) else {
        return Vec::new();
    };
    let weights = total[h].scoring_weights(data.heads[h].positive).weights;
    let rows: Vec<usize> = (0..train.len())
        .filter(|&i| train[i].shares(h).next().is_some())
        .collect();
    let chunks: Vec<&[usize]> = rows.chunks(1024).collect();
    parallel_map(&chunks, threads, |chunk| {
        let mut scratch = Scratch::default();
        chunk
            .iter()
            .filter_map(|&i| {
                let e = train[i];
                let text = refine::disguise(pipeline, &e.text, &weights, e.hash >> 7)?;
                pipeline.vectorize_into(&text, &mut scratch, |_| {});
                Some((i, scratch.features.clone()))
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}
