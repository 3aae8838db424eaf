//! The model file format.
//!
//! ```text
//! offset  size  field
//!      0     8  magic b"CIVILITY"
//!      8     4  format version, u32 little-endian
//!     12     8  header length H, u64 little-endian
//!     20     8  payload length P, u64 little-endian
//!     28     4  CRC-32 of header and payload, u32 little-endian
//!     32     H  header: JSON (pipeline, heads, calibration, policy, metadata)
//!   32+H     P  payload
//! ```
//!
//! The payload of version 2 is the weight table every head scores with,
//! f32 little-endian, feature-major (`[feature * stride + column]`, see
//! [`Table`]); the header pads the JSON with spaces so the table starts at
//! a multiple of 64 bytes, and a model embedded in the binary (suitably
//! aligned) is scored from where it lies, without a copy. The payload of
//! version 1 was every head's raw counts, class-major; the weights are
//! derived from them when such a file is read.
//!
//! The version is read first and checked before anything else is parsed.
//! The header is JSON so a model can be inspected with ordinary tools and
//! its tagged enums stay readable across versions; the payload is raw
//! little-endian floats so loading it is a copy, not a parse. Lengths are
//! checked against the bytes actually present before anything is allocated
//! from them, so a corrupt length field cannot trigger a huge allocation.
//! Files are written to a temporary file in the same directory and renamed
//! into place, so a failed or interrupted save never damages an existing
//! model.

use super::calibration::{Calibration, Temperature};
use super::naive_bayes::{Head, Variant};
use super::{columns_of, HeadState, Model, Table, Weights};
use crate::error::{Error, Result};
use crate::pipeline::PipelineConfig;
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;

/// The magic bytes every model file starts with.
pub const MAGIC: &[u8; 8] = b"CIVILITY";
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest format version this build reads.
pub const OLDEST_SUPPORTED_VERSION: u32 = 1;
const PREAMBLE: usize = 32;
/// The payload of a version 2 file starts at a multiple of this.
const PAYLOAD_ALIGN: usize = 64;
/// Upper bound on the JSON header, far above any real model's.
const MAX_HEADER: u64 = 64 << 20;
/// Upper bound on the payload (2^24 features × 64 columns × 4 bytes).
const MAX_PAYLOAD: u64 = 4 << 30;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    pipeline: PipelineConfig,
    heads: Vec<HeadHeader>,
    policy: Policy,
    #[serde(default)]
    metadata: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadHeader {
    name: String,
    labels: Vec<String>,
    variant: Variant,
    alpha: f64,
    #[serde(default)]
    shrink: f64,
    n_features: usize,
    class_weights: Vec<f64>,
    #[serde(default)]
    positive: Option<String>,
    #[serde(default)]
    calibration: Option<Calibration>,
    #[serde(default)]
    temperature: Option<Temperature>,
    /// Added after format version 1 was released: files without it load
    /// with no biases, and a head without biases writes no field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    class_bias: Option<Vec<f64>>,
    /// Version 2: the constant terms of the head's table columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bias: Option<Vec<f64>>,
}

/// Serializes a model.
pub(crate) fn write(model: &Model, mut w: impl Write) -> Result<()> {
    let header = Header {
        pipeline: model.pipeline.clone(),
        heads: model
            .heads
            .iter()
            .map(|h| HeadHeader {
                name: h.head.name.clone(),
                labels: h.head.labels.clone(),
                variant: h.head.variant,
                alpha: h.head.alpha,
                shrink: h.head.shrink,
                n_features: h.head.n_features,
                class_weights: h.head.class_weights.clone(),
                positive: h.positive.map(|p| h.head.labels[p].clone()),
                calibration: h.calibration.clone(),
                temperature: h.temperature,
                class_bias: h.class_bias.clone(),
                bias: Some(h.bias.clone()),
            })
            .collect(),
        policy: model.policy.clone(),
        metadata: model.metadata.clone(),
    };
    let mut header = serde_json::to_vec(&header)
        .map_err(|e| Error::InvalidSetting(format!("cannot encode the model header: {e}")))?;
    let padded = (PREAMBLE + header.len()).next_multiple_of(PAYLOAD_ALIGN) - PREAMBLE;
    header.resize(padded, b' ');
    let mut payload = Vec::with_capacity(model.table.weights.len() * 4);
    for &x in model.table.weights.iter() {
        payload.extend_from_slice(&x.to_le_bytes());
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    crc.update(&payload);
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT_VERSION.to_le_bytes())?;
    w.write_all(&(header.len() as u64).to_le_bytes())?;
    w.write_all(&(payload.len() as u64).to_le_bytes())?;
    w.write_all(&crc.finalize().to_le_bytes())?;
    w.write_all(&header)?;
    w.write_all(&payload)?;
    w.flush()?;
    Ok(())
}

/// Writes a model to `path` atomically: a temporary file beside it, synced,
/// then renamed over the old file.
pub(crate) fn save(model: &Model, path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidSetting(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // Errors name the file the caller asked for, not the temporary file.
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        write(model, &mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })()
    .map_err(|e| match e {
        Error::Read(io) => Error::io(path, io),
        other => other,
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The fields of a model file's preamble, the version checked.
struct Preamble {
    version: u32,
    header_len: u64,
    payload_len: u64,
    crc: u32,
}

/// Checks the first bytes of a file (up to [`PREAMBLE`] of them).
fn preamble(pre: &[u8]) -> Result<Preamble> {
    let got = pre.len();
    if got < 8 || &pre[..8] != MAGIC {
        return Err(Error::NotAModel {
            expected: String::from_utf8_lossy(MAGIC).into_owned(),
            found: String::from_utf8_lossy(&pre[..got.min(8)]).into_owned(),
        });
    }
    if got < 12 {
        return Err(Error::Damaged(format!(
            "the file ends after {got} bytes, inside the format version"
        )));
    }
    let version = u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]);
    if !(OLDEST_SUPPORTED_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::Incompatible {
            found: version,
            oldest: OLDEST_SUPPORTED_VERSION,
            newest: FORMAT_VERSION,
        });
    }
    if got < PREAMBLE {
        return Err(Error::Damaged(format!(
            "the file ends after {got} bytes, inside the {PREAMBLE}-byte preamble"
        )));
    }
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&pre[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let (header_len, payload_len) = (u64_at(12), u64_at(20));
    if header_len > MAX_HEADER || payload_len > MAX_PAYLOAD {
        return Err(Error::Damaged(format!(
            "implausible section lengths (header {header_len} bytes, payload {payload_len} bytes)"
        )));
    }
    Ok(Preamble {
        version,
        header_len,
        payload_len,
        crc: u32::from_le_bytes([pre[28], pre[29], pre[30], pre[31]]),
    })
}

fn check_crc(pre: &Preamble, header: &[u8], payload: &[u8]) -> Result<()> {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(payload);
    let actual = hasher.finalize();
    if actual != pre.crc {
        return Err(Error::Damaged(format!(
            "checksum mismatch (stored {:08x}, computed {actual:08x})",
            pre.crc
        )));
    }
    Ok(())
}

/// Reads a model from a stream, checking everything before trusting it.
pub(crate) fn read(mut r: impl Read) -> Result<Model> {
    let mut pre = [0u8; PREAMBLE];
    let got = read_up_to(&mut r, &mut pre)?;
    let pre = preamble(&pre[..got])?;
    // `take` + `read_to_end` grows the buffer only as bytes arrive, so a
    // corrupt length cannot make us allocate more than the file holds.
    let mut header = Vec::new();
    (&mut r).take(pre.header_len).read_to_end(&mut header)?;
    if header.len() as u64 != pre.header_len {
        return Err(Error::Damaged(format!(
            "truncated: the header should have {} bytes but the file has {}",
            pre.header_len,
            header.len()
        )));
    }
    let mut payload = Vec::new();
    (&mut r).take(pre.payload_len).read_to_end(&mut payload)?;
    if payload.len() as u64 != pre.payload_len {
        return Err(Error::Damaged(format!(
            "truncated: the payload should have {} bytes but the file has {}",
            pre.payload_len,
            payload.len()
        )));
    }
    let mut extra = [0u8; 1];
    if read_up_to(&mut r, &mut extra)? != 0 {
        return Err(Error::Damaged(
            "unexpected bytes after the end of the model".into(),
        ));
    }
    check_crc(&pre, &header, &payload)?;
    build(pre.version, &header, &payload, None)
}

/// Reads a model from bytes that live as long as the program (the
/// embedded model): a version 2 weight table is used where it lies when the
/// bytes are aligned for `f32` and the machine is little-endian, and copied
/// otherwise.
pub(crate) fn read_static(bytes: &'static [u8]) -> Result<Model> {
    let pre = preamble(&bytes[..bytes.len().min(PREAMBLE)])?;
    let header_end = PREAMBLE as u64 + pre.header_len;
    if header_end + pre.payload_len != bytes.len() as u64 {
        // Truncated or followed by more bytes: the stream reader says which.
        return read(bytes);
    }
    let (header, payload) = bytes[PREAMBLE..].split_at(pre.header_len as usize);
    check_crc(&pre, header, payload)?;
    build(pre.version, header, payload, Some(payload))
}

fn build(
    version: u32,
    header: &[u8],
    payload: &[u8],
    in_place: Option<&'static [u8]>,
) -> Result<Model> {
    let header: Header = serde_json::from_slice(header)
        .map_err(|e| Error::Damaged(format!("invalid header: {e}")))?;
    let damaged = |m: String| Error::Damaged(m);
    let n_features = 1usize << header.pipeline.features.buckets_log2.min(31);
    header
        .pipeline
        .features
        .validate()
        .map_err(|e| damaged(format!("invalid pipeline: {e}")))?;
    let counted = version == 1;
    let columns = |h: &HeadHeader| {
        if counted || h.positive.is_none() {
            h.labels.len()
        } else {
            1
        }
    };
    let expected = header
        .heads
        .iter()
        .map(|h| columns(h).saturating_mul(n_features).saturating_mul(4))
        .fold(0usize, |a, b| a.saturating_add(b));
    if expected != payload.len() {
        return Err(damaged(format!(
            "the header describes {expected} bytes of {} but the file has {}",
            if counted { "counts" } else { "weights" },
            payload.len()
        )));
    }
    let mut heads = Vec::with_capacity(header.heads.len());
    let mut at = 0;
    for h in header.heads {
        if h.n_features != n_features {
            return Err(damaged(format!(
                "head {:?} has {} features but the pipeline makes {n_features}",
                h.name, h.n_features
            )));
        }
        if h.class_weights.len() != h.labels.len()
            || h.class_weights
                .iter()
                .any(|w| !(w.is_finite() && *w >= 0.0))
        {
            return Err(damaged(format!(
                "head {:?} has invalid class weights",
                h.name
            )));
        }
        // A binary head's labels are not bounded by the payload's size:
        // check their number before anything is built from them.
        if h.positive.is_some() && h.labels.len() != 2 {
            return Err(damaged(format!(
                "head {:?} names a positive label but has {} labels, not 2",
                h.name,
                h.labels.len()
            )));
        }
        let mut head = Head::described(h.name, h.labels, h.variant, h.alpha, h.n_features)
            .map_err(|e| damaged(e.to_string()))?;
        head.set_shrink(h.shrink)
            .map_err(|e| damaged(e.to_string()))?;
        if counted {
            let len = head.labels.len() * n_features * 4;
            head.counts = payload[at..at + len]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            at += len;
            if head.counts.iter().any(|c| !(c.is_finite() && *c >= 0.0)) {
                return Err(damaged(format!(
                    "head {:?} has a negative or non-finite count",
                    head.name
                )));
            }
        }
        head.class_weights = h.class_weights;
        let positive = match h.positive {
            Some(p) => Some(
                head.labels
                    .iter()
                    .position(|l| *l == p)
                    .ok_or_else(|| damaged(format!("head {:?} has no label {p:?}", head.name)))?,
            ),
            None => None,
        };
        if let Some(c) = &h.calibration {
            c.validate()
                .map_err(|e| damaged(format!("head {:?}: {e}", head.name)))?;
        }
        if let Some(t) = &h.temperature {
            if !(t.t.is_finite() && t.t > 0.0) {
                return Err(damaged(format!(
                    "head {:?} has an invalid temperature",
                    head.name
                )));
            }
        }
        let mut state = HeadState {
            head,
            bias: Vec::new(),
            positive,
            calibration: h.calibration,
            temperature: h.temperature,
            class_bias: h.class_bias,
        };
        match h.bias {
            Some(b) if !counted && b.len() == columns_of(&state) => state.bias = b,
            None if counted => {}
            _ => {
                return Err(damaged(format!(
                    "head {:?} has missing or invalid constant terms",
                    state.head.name
                )))
            }
        }
        heads.push(state);
    }
    let table = if counted {
        Table::from_counts(&mut heads).map_err(|e| damaged(e.to_string()))?
    } else {
        let weights = match in_place.and_then(|b| {
            cfg!(target_endian = "little")
                .then(|| bytemuck::try_cast_slice::<u8, f32>(b).ok())
                .flatten()
        }) {
            Some(w) => Weights::Static(w),
            None => Weights::Shared(
                payload
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
        };
        Table {
            weights,
            stride: heads.iter().map(columns_of).sum(),
        }
    };
    let model = Model {
        pipeline: header.pipeline,
        heads,
        policy: header.policy,
        metadata: header.metadata,
        table,
    };
    model.check().map_err(|e| damaged(e.to_string()))?;
    Ok(model)
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tiny_tone_model;

    fn bytes_of(model: &Model) -> Vec<u8> {
        let mut out = Vec::new();
        write(model, &mut out).unwrap();
        out
    }

    /// The header JSON and the payload of a model file.
    fn split(bytes: &[u8]) -> (serde_json::Value, Vec<u8>) {
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
        let header = serde_json::from_slice(&bytes[PREAMBLE..PREAMBLE + len]).unwrap();
        (header, bytes[PREAMBLE + len..].to_vec())
    }

    /// A model file with the given header and payload, checksum included.
    fn assemble(header: &serde_json::Value, payload: &[u8]) -> Vec<u8> {
        let header = serde_json::to_vec(header).unwrap();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header);
        crc.update(payload);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn class_biases_survive_a_round_trip() {
        let model = tiny_tone_model(Some(vec![0.25, -0.5, 0.125]));
        let bytes = bytes_of(&model);
        let loaded = read(bytes.as_slice()).unwrap();
        assert_eq!(loaded, model);
        assert_eq!(loaded.heads[1].class_bias, Some(vec![0.25, -0.5, 0.125]));
        assert!(
            bytes_of(&loaded) == bytes,
            "writing it again changed the file"
        );
    }

    #[test]
    fn files_without_class_biases_are_unchanged_and_load() {
        // A head without biases writes no field: such a file is what
        // builds before the field existed wrote.
        let bytes = bytes_of(&tiny_tone_model(None));
        let (header, _) = split(&bytes);
        for h in header["heads"].as_array().unwrap() {
            assert!(h.get("class_bias").is_none(), "{h}");
        }
        assert_eq!(read(bytes.as_slice()).unwrap(), tiny_tone_model(None));
        // A file written with biases, with the field removed as an older
        // build would have written it, loads without biases.
        let (mut header, payload) = split(&bytes_of(&tiny_tone_model(Some(vec![1.0, 0.0, -1.0]))));
        header["heads"][1]
            .as_object_mut()
            .unwrap()
            .remove("class_bias")
            .unwrap();
        let old = read(assemble(&header, &payload).as_slice()).unwrap();
        assert_eq!(old.heads[1].class_bias, None);
        assert_eq!(old, tiny_tone_model(None));
    }

    #[test]
    fn a_binary_head_with_more_labels_is_damage() {
        // The payload holds one column for a binary head whatever its
        // labels say, so their number must be checked on its own.
        let (mut header, payload) = split(&bytes_of(&tiny_tone_model(None)));
        let labels: Vec<String> = (0..10_000).map(|i| format!("l{i}")).collect();
        header["heads"][0]["labels"] = serde_json::json!(labels);
        header["heads"][0]["positive"] = serde_json::json!("l1");
        header["heads"][0]["class_weights"] = serde_json::json!(vec![1.0; 10_000]);
        let result = read(assemble(&header, &payload).as_slice());
        assert!(
            matches!(&result, Err(Error::Damaged(m)) if m.contains("not 2")),
            "{result:?}"
        );
    }

    #[test]
    fn invalid_class_biases_are_damage() {
        let (header, payload) = split(&bytes_of(&tiny_tone_model(Some(vec![0.0; 3]))));
        let cases = [
            (1, serde_json::json!([0.0, 1.0])),
            (1, serde_json::json!([0.0, 1.0, null])),
            (1, serde_json::json!("high")),
            (0, serde_json::json!([0.0, 1.0])),
        ];
        for (head, value) in cases {
            let mut h = header.clone();
            h["heads"][head]["class_bias"] = value.clone();
            let result = read(assemble(&h, &payload).as_slice());
            assert!(
                matches!(result, Err(Error::Damaged(_))),
                "head {head}, {value}: {result:?}"
            );
        }
    }
}
