//! The weight table every head scores with.
//!
//! One feature-major table for all heads, laid out so that one feature's
//! weights for every head sit next to each other in memory: scoring a
//! comment reads one short row per feature. Training derives it from the
//! heads' counts (or refined weights) once, when training ends; the model
//! file stores it as it is, so loading is a copy, or for the embedded
//! model nothing at all.

use super::head::HeadSpec;
use super::naive_bayes::{Head, HeadWeights};
use crate::error::{Result, SettingError};
use std::sync::Arc;

/// Every head's weights in one feature-major table: feature `f`'s weights
/// for all columns are `weights[f * stride..(f + 1) * stride]`. A binary
/// head has one column (the log-odds of its positive label), a multi-class
/// head one per class; heads take their columns in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub weights: Weights,
    pub stride: usize,
}

/// The table's storage: read in place from the embedded model, or owned.
#[derive(Clone)]
pub(crate) enum Weights {
    Static(&'static [f32]),
    Shared(Arc<[f32]>),
}

impl std::ops::Deref for Weights {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Weights::Static(w) => w,
            Weights::Shared(w) => w,
        }
    }
}

impl PartialEq for Weights {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Weights({} values)", self.len())
    }
}

/// True if no value is infinite or NaN. Checks a block at a time with
/// no early exit, which the compiler turns into vector instructions: the
/// default model's 4.5 million weights take a fraction of a millisecond.
pub(crate) fn all_finite(values: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    values.chunks(256).all(|block| {
        block.iter().fold(0u32, |bad, w| {
            bad | u32::from(w.to_bits() & EXPONENT == EXPONENT)
        }) == 0
    })
}

impl Table {
    /// Derives the table from naive Bayes counts: each head's scoring
    /// weights ([`Head::scoring_weights`]) laid out by
    /// [`Table::from_weights`].
    pub(crate) fn from_counts(specs: &mut [HeadSpec], heads: &[Head]) -> Result<Table> {
        let weights = specs
            .iter()
            .zip(heads)
            .map(|(s, h)| h.scoring_weights(s.positive()))
            .collect();
        Table::from_weights(specs, weights)
    }

    /// Lays out each head's scoring weights (`weights[h]`, as
    /// [`Head::scoring_weights`] gives them) in one table, and sets each
    /// head's constant terms.
    pub(crate) fn from_weights(specs: &mut [HeadSpec], weights: Vec<HeadWeights>) -> Result<Table> {
        let n_features = specs.first().map_or(0, |h| h.n_features);
        if let Some(h) = specs.iter().find(|h| h.n_features != n_features) {
            return Err(SettingError::Mismatch(format!(
                "head {:?} has {} features, the first head {n_features}",
                h.name, h.n_features
            ))
            .into());
        }
        let stride: usize = specs.iter().map(HeadSpec::columns).sum();
        let mut table = vec![0.0f32; n_features * stride];
        let mut column = 0;
        for (h, w) in specs.iter_mut().zip(weights) {
            if w.bias.len() != h.columns() || w.weights.len() != w.bias.len() * n_features {
                return Err(SettingError::head(&h.name, "weights of the wrong shape").into());
            }
            for (c, weights) in w.weights.chunks_exact(n_features.max(1)).enumerate() {
                for (f, &x) in weights.iter().enumerate() {
                    table[f * stride + column + c] = x as f32;
                }
            }
            column += w.bias.len();
            h.bias = w.bias;
        }
        Ok(Table {
            weights: Weights::Shared(table.into()),
            stride,
        })
    }

    /// The table for `specs` read from little-endian `f32` bytes: in place
    /// when they live as long as the program, are aligned for `f32` and
    /// the machine is little-endian; copied otherwise.
    pub(crate) fn from_le_bytes(
        specs: &[HeadSpec],
        bytes: &[u8],
        in_place: Option<&'static [u8]>,
    ) -> Table {
        let weights = match in_place.and_then(|b| {
            cfg!(target_endian = "little")
                .then(|| bytemuck::try_cast_slice::<u8, f32>(b).ok())
                .flatten()
        }) {
            Some(w) => Weights::Static(w),
            None => Weights::Shared(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
        };
        Table {
            weights,
            stride: specs.iter().map(HeadSpec::columns).sum(),
        }
    }

    /// The row of feature `f`: its weight in every column.
    #[inline(always)]
    pub(crate) fn row(&self, f: u32) -> &[f32] {
        &self.weights[f as usize * self.stride..][..self.stride]
    }
}
