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
//!
//! This file is the container (preamble, checksum, atomic save); each
//! format's header and payload are read by a reader of its own (`v1.rs`,
//! `v2.rs`). A reader fills the fields its format's files may lack with
//! the values such files were scored with, frozen in the reader, before
//! the header is parsed: the `Default` of a configuration is for new
//! training configurations and may change, the meaning of an old file may
//! not.

mod frozen;
mod v1;
mod v2;

use super::head::HeadSpec;
use super::table::Table;
use super::Model;
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

/// The JSON header, as this build writes it. Readers parse it only after
/// filling in the fields their format's files may lack ([`frozen`]).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    pipeline: PipelineConfig,
    heads: Vec<HeadSpec>,
    policy: Policy,
    metadata: serde_json::Value,
}

impl Header {
    /// The model this header describes, with its weight table.
    fn into_model(self, table: Table) -> Model {
        Model {
            pipeline: self.pipeline,
            heads: self.heads,
            policy: self.policy,
            metadata: self.metadata,
            table,
        }
    }
}

/// Serializes a model.
pub(crate) fn write(model: &Model, mut w: impl Write) -> Result<()> {
    let header = Header {
        pipeline: model.pipeline.clone(),
        heads: model.heads.clone(),
        policy: model.policy.clone(),
        metadata: model.metadata.clone(),
    };
    let mut header = serde_json::to_vec(&header).map_err(|e| Error::Write(e.into()))?;
    let padded = (PREAMBLE + header.len()).next_multiple_of(PAYLOAD_ALIGN) - PREAMBLE;
    header.resize(padded, b' ');
    let mut payload = Vec::with_capacity(model.table.weights.len() * 4);
    for &x in model.table.weights.iter() {
        payload.extend_from_slice(&x.to_le_bytes());
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header);
    crc.update(&payload);
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&(payload.len() as u64).to_le_bytes())?;
        w.write_all(&crc.finalize().to_le_bytes())?;
        w.write_all(&header)?;
        w.write_all(&payload)?;
        w.flush()
    };
    write(&mut w).map_err(Error::Write)
}

/// Writes a model to `path` atomically: a temporary file beside it, synced,
/// then renamed over the old file.
pub(crate) fn save(model: &Model, path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        let not_a_file = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path");
        Error::io(path, not_a_file)
    })?;
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
        Error::Read(io) | Error::Write(io) => Error::io(path, io),
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

/// Builds the model from a checked file's sections, with the reader of
/// its format, and checks it whole.
fn build(
    version: u32,
    header: &[u8],
    payload: &[u8],
    in_place: Option<&'static [u8]>,
) -> Result<Model> {
    let model = match version {
        1 => v1::build(header, payload)?,
        _ => v2::build(header, payload, in_place)?,
    };
    model.check().map_err(|e| Error::Damaged(e.to_string()))?;
    Ok(model)
}

/// Parses a header, its missing fields filled with the values its format
/// froze (`pipeline` and `head`, see [`frozen`]), and checks the pipeline
/// and each head on their own.
fn parse_header(
    header: &[u8],
    pipeline: &serde_json::Value,
    head: &serde_json::Value,
) -> Result<Header> {
    let invalid = |e: serde_json::Error| Error::Damaged(format!("invalid header: {e}"));
    let mut json: serde_json::Value = serde_json::from_slice(header).map_err(invalid)?;
    frozen::fill(&mut json, pipeline, head);
    let header: Header = serde_json::from_value(json).map_err(invalid)?;
    header
        .pipeline
        .features
        .validate()
        .map_err(|e| Error::Damaged(format!("invalid pipeline: {e}")))?;
    let n_features = n_features(&header.pipeline);
    for h in &header.heads {
        if h.n_features != n_features {
            return Err(Error::Damaged(format!(
                "head {:?} has {} features but the pipeline makes {n_features}",
                h.name, h.n_features
            )));
        }
        h.check().map_err(|e| Error::Damaged(e.to_string()))?;
    }
    Ok(header)
}

/// The number of features of a checked pipeline.
fn n_features(pipeline: &PipelineConfig) -> usize {
    1usize << pipeline.features.buckets_log2.min(31)
}

/// Checks that the payload holds `columns` columns of `n_features` `f32`s
/// for each head, before anything is read from it.
fn check_payload_size(
    header: &Header,
    payload: &[u8],
    what: &str,
    columns: impl Fn(&HeadSpec) -> usize,
) -> Result<()> {
    let n_features = n_features(&header.pipeline);
    let expected = header
        .heads
        .iter()
        .map(|h| columns(h).saturating_mul(n_features).saturating_mul(4))
        .fold(0usize, |a, b| a.saturating_add(b));
    if expected != payload.len() {
        return Err(Error::Damaged(format!(
            "the header describes {expected} bytes of {what} but the file has {}",
            payload.len()
        )));
    }
    Ok(())
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
    fn a_failing_writer_is_a_write_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = write(&tiny_tone_model(None), Full).unwrap_err();
        assert!(matches!(err, Error::Write(_)), "{err:?}");
        assert_eq!(err.to_string(), "write failed: disk full");
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
