//! Training weights: each comment's weight per head and label.
//!
//! A comment's weight is its source's weight, times its share of a label
//! (fractional labels), times the label's balancing factor: within a
//! source marked `balance`, and over all sources for a head marked
//! `balance`, every label gets the same total weight.

use crate::config::TrainingConfig;
use crate::data::{Dataset, Example};

/// Per source, head and label: the factor applied to a comment's weight.
pub(crate) type Balance = Vec<Vec<Vec<f32>>>;

/// The balancing factors of every source, head and label: those of the
/// sources marked `balance`, then those of the heads marked `balance`.
pub(super) fn weights(config: &TrainingConfig, data: &Dataset, train: &[&Example]) -> Balance {
    let mut balance = class_balance(config, data, train);
    balance_heads(config, train, &mut balance);
    balance
}

/// The training weight of comment `e`'s `share` of label `c` of head `h`:
/// the comment's weight, times the share, times the label's factor in
/// `balance` (per source, head and label).
pub(crate) fn weight(
    e: &Example,
    h: usize,
    c: usize,
    share: f32,
    balance: &[Vec<Vec<f32>>],
) -> f32 {
    e.weight * share * balance[e.source][h][c]
}

/// Per source, head and label: the factor that gives every label of a
/// head equal total weight within a source marked `balance` (1 elsewhere).
fn class_balance(
    config: &TrainingConfig,
    data: &Dataset,
    train: &[&Example],
) -> Vec<Vec<Vec<f32>>> {
    let mut totals: Vec<Vec<Vec<f64>>> = config
        .sources
        .iter()
        .map(|_| {
            data.heads
                .iter()
                .map(|h| vec![0.0; h.labels.len()])
                .collect()
        })
        .collect();
    for e in train {
        for (h, totals) in totals[e.source].iter_mut().enumerate() {
            for (c, share) in e.shares(h) {
                totals[c] += f64::from(e.weight * share);
            }
        }
    }
    totals
        .iter()
        .zip(&config.sources)
        .map(|(heads, source)| {
            heads
                .iter()
                .map(|t| {
                    if source.balance {
                        equalizing(t)
                    } else {
                        vec![1.0; t.len()]
                    }
                })
                .collect()
        })
        .collect()
}

/// For heads marked `balance`: multiplies `balance` by the factor that
/// gives every label of the head equal total (already weighted) training
/// weight over all sources.
fn balance_heads(config: &TrainingConfig, train: &[&Example], balance: &mut [Vec<Vec<f32>>]) {
    for (h, hc) in config.heads.iter().enumerate() {
        if !hc.balance {
            continue;
        }
        let k = balance.first().map_or(0, |s| s[h].len());
        let mut totals = vec![0.0f64; k];
        for e in train {
            for (c, share) in e.shares(h) {
                totals[c] += f64::from(weight(e, h, c, share, balance));
            }
        }
        let factors = equalizing(&totals);
        for source in balance.iter_mut() {
            for (f, g) in source[h].iter_mut().zip(&factors) {
                *f *= g;
            }
        }
    }
}

/// Per label, the factor that gives every label with some weight in
/// `totals` the same total: the mean total over those labels divided by
/// the label's own. 1 for a label without weight, and for every label
/// when fewer than two have weight (there is nothing to even out).
pub(super) fn equalizing(totals: &[f64]) -> Vec<f32> {
    let present = totals.iter().filter(|&&t| t > 0.0).count();
    let sum: f64 = totals.iter().sum();
    totals
        .iter()
        .map(|&t| {
            if present > 1 && t > 0.0 {
                (sum / (present as f64 * t)) as f32
            } else {
                1.0
            }
        })
        .collect()
}
