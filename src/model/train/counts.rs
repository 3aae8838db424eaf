//! Features and counts: every training comment through the pipeline, and
//! each head's naive Bayes counts per cross-fitting fold.

use super::balance::{weight, Balance};
use super::{Folds, Reporter, Stage};
use crate::config::TrainingConfig;
use crate::data::{Dataset, Example};
use crate::error::{Error, Result};
use crate::features::SparseRows;
use crate::model::naive_bayes::Head;
use crate::parallel::parallel_map;
use crate::pipeline::{Pipeline, Scratch};

/// Each head's counts, per fold and in total.
pub(super) struct Counts {
    /// Per fold, per head: the counts of the fold's comments.
    pub folds: Vec<Vec<Head>>,
    /// Per head: the counts of every training comment (the folds' sum).
    pub total: Vec<Head>,
}

/// Counts every training comment into its fold's heads, and sums the
/// folds.
#[allow(clippy::too_many_arguments)]
pub(super) fn count(
    config: &TrainingConfig,
    data: &Dataset,
    train: &[&Example],
    vectors: &SparseRows,
    balance: &Balance,
    folds: Folds,
    n_features: usize,
    progress: &Reporter<'_>,
) -> Result<Counts> {
    let empty_heads = || -> Result<Vec<Head>> {
        config
            .heads
            .iter()
            .zip(&data.heads)
            .map(|(hc, hl)| {
                let mut head = Head::new(
                    &hc.name,
                    hl.labels.clone(),
                    hc.variant,
                    hc.alpha,
                    n_features,
                )?;
                head.set_shrink(hc.shrink)?;
                Ok(head)
            })
            .collect()
    };
    let mut fold_heads: Vec<Vec<Head>> =
        (0..folds.n).map(|_| empty_heads()).collect::<Result<_>>()?;
    for (i, (e, x)) in train.iter().zip(vectors.iter()).enumerate() {
        for (h, head) in fold_heads[folds.of(e.hash)].iter_mut().enumerate() {
            for (c, share) in e.shares(h) {
                head.add(x, c, weight(e, h, c, share, balance));
            }
        }
        if i % 4096 == 0 {
            progress.report(Stage::Counting, i, train.len());
        }
    }
    let mut total = empty_heads()?;
    for fh in &fold_heads {
        for (t, h) in total.iter_mut().zip(fh) {
            t.merge(h, 1.0);
        }
    }
    Ok(Counts {
        folds: fold_heads,
        total,
    })
}

/// Per head, the training comments of each label, fractional labels
/// included: a label carried only as a fraction still has weight to learn
/// from, so it is no reason to stop, and the counts report the comments
/// the weights were made from.
///
/// # Errors
///
/// [`Error::NoData`] naming a head and a label without comments.
pub(super) fn examples_per_label(
    data: &Dataset,
    train: &[&Example],
    heads: &[Head],
) -> Result<Vec<Vec<u64>>> {
    let mut examples_per_label = Vec::new();
    for (hi, (h, hl)) in heads.iter().zip(&data.heads).enumerate() {
        let mut counts = vec![0u64; hl.labels.len()];
        for e in train {
            for (c, _) in e.shares(hi) {
                counts[c] += 1;
            }
        }
        if let Some(missing) = counts.iter().position(|&n| n == 0) {
            return Err(Error::NoData(format!(
                "head {:?} has no training comments labelled {:?}",
                h.spec.name, hl.labels[missing]
            )));
        }
        examples_per_label.push(counts);
    }
    Ok(examples_per_label)
}

/// Runs the pipeline over every text on `threads` threads, keeping order.
pub(crate) fn vectorize_all(
    pipeline: &Pipeline,
    texts: &[&str],
    threads: usize,
    progress: &Reporter<'_>,
) -> SparseRows {
    let done = std::sync::atomic::AtomicUsize::new(0);
    // Parts of whole blocks, so that they join without a copy.
    let chunks: Vec<&[&str]> = texts.chunks(SparseRows::BLOCK).collect();
    let parts = parallel_map(&chunks, threads, |part| {
        let mut scratch = Scratch::default();
        let mut rows = SparseRows::default();
        for t in part.iter() {
            pipeline.vectorize_into(t, &mut scratch, |_| {});
            rows.push(scratch.features.view());
        }
        let d = done.fetch_add(part.len(), std::sync::atomic::Ordering::Relaxed);
        progress.report(Stage::Features, d + part.len(), texts.len());
        rows
    });
    let mut all = SparseRows::default();
    parts.into_iter().for_each(|part| all.append(part));
    all
}
