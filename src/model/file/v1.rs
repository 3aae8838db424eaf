//! Format 1: the header and every head's raw counts.
//!
//! The payload is each head's weighted feature counts, `f32`
//! little-endian, class-major (`[class * n_features + f]`), head after
//! head. Heads store no constant terms: the weights and constant terms are
//! derived from the counts when the file is read, as the builds that wrote
//! it did.

use super::{check_payload_size, frozen, parse_header};
use crate::error::{Error, Result};
use crate::model::table::Table;
use crate::model::Model;

/// Reads a format 1 model from its header and payload.
pub(super) fn build(header: &[u8], payload: &[u8]) -> Result<Model> {
    let damaged = |m: String| Error::Damaged(m);
    let mut header = parse_header(header, &frozen::pipeline(), &frozen::head())?;
    check_payload_size(&header, payload, "counts", |h| h.labels.len())?;
    let mut counted = Vec::with_capacity(header.heads.len());
    let mut at = 0;
    for spec in &header.heads {
        if !spec.bias.is_empty() {
            return Err(damaged(format!(
                "head {:?} has missing or invalid constant terms",
                spec.name
            )));
        }
        let mut head = spec.counting_head().map_err(|e| damaged(e.to_string()))?;
        let len = head.counts.len() * 4;
        head.counts = payload[at..at + len]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        at += len;
        if head.counts.iter().any(|c| !(c.is_finite() && *c >= 0.0)) {
            return Err(damaged(format!(
                "head {:?} has a negative or non-finite count",
                head.spec.name
            )));
        }
        counted.push(head);
    }
    let table =
        Table::from_counts(&mut header.heads, &counted).map_err(|e| damaged(e.to_string()))?;
    Ok(header.into_model(table))
}
