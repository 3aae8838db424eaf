//! Format 2: the header and the weight table every head scores with.
//!
//! The payload is the table, `f32` little-endian, feature-major
//! (`[feature * stride + column]`): one column for a binary head, one per
//! label for the others. Each head stores the constant terms of its
//! columns (`bias`). The header is padded with spaces so that the table
//! starts at a multiple of 64 bytes into the file, which lets an aligned
//! embedded model be scored where it lies.

use super::{check_payload_size, frozen, parse_header};
use crate::error::{Error, Result};
use crate::model::table::Table;
use crate::model::{HeadSpec, Model};

/// Reads a format 2 model from its header and payload; `in_place` is the
/// payload again when it lives as long as the program.
pub(super) fn build(
    header: &[u8],
    payload: &[u8],
    in_place: Option<&'static [u8]>,
) -> Result<Model> {
    let header = parse_header(header, &frozen::pipeline(), &frozen::head())?;
    check_payload_size(&header, payload, "weights", HeadSpec::columns)?;
    if let Some(h) = header.heads.iter().find(|h| h.bias.len() != h.columns()) {
        return Err(Error::Damaged(format!(
            "head {:?} has missing or invalid constant terms",
            h.name
        )));
    }
    let table = Table::from_le_bytes(&header.heads, payload, in_place);
    Ok(header.into_model(table))
}
