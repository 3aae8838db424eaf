//! Reading labelled comments for training and evaluation.
//!
//! Data comes as JSON Lines or CSV. A [`TrainingConfig`] (a small TOML file,
//! see `models/default.toml`) says which field holds the text and how each
//! corpus's own fields map to the model's heads, so public corpora train
//! without hand conversion. The same mapping can be given with CLI flags for
//! the simple case of one file whose fields are named after the heads.
//!
//! Every comment is assigned to the training part or the held-out part by a
//! hash of its text and a seed, so the split is fixed, identical across
//! runs, and a comment that appears in two corpora lands on the same side.
//! Duplicates (same text after case and whitespace folding) are kept once.

use crate::error::{Error, Result};
use crate::io::{read_line_limited, LineRead, MAX_LINE_BYTES};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

#[doc(no_inline)]
pub use crate::config::{Format, SourceConfig, SplitConfig, ThresholdTargets, TrainingConfig};
#[doc(no_inline)]
pub use crate::model::params::{
    CalibrationConfig, CalibrationMethod, CalibrationWeights, HeadConfig,
};

/// How one head's label is read from a row.
///
/// The value of `field` (a dotted path into the object) is read. With
/// `single`, only a one-element array counts, as its element. Then, if a
/// test is given (`contains`, `any_of`, `all_in`, `nonempty`, `at_least`),
/// the label is `then` when it holds and `else` otherwise (a missing
/// `then`/`else` leaves the row unlabelled for this head). Without a test
/// the value itself is the label (`true`/`false` for booleans), passed
/// through `map` when one is given; values missing from `map` leave the
/// row unlabelled.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRule {
    /// Dotted path of the field.
    pub field: String,
    /// Use only one-element arrays, as their element.
    #[serde(default)]
    pub single: bool,
    /// Like `single`, and arrays of several values give fractional labels.
    #[serde(default)]
    pub fractional: bool,
    /// Value-to-label map.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Test: the array contains this value (or the value equals it).
    #[serde(default)]
    pub contains: Option<String>,
    /// Test: the array contains any of these values (or the value is one).
    #[serde(default)]
    pub any_of: Option<Vec<String>>,
    /// Test: the array is non-empty and all its values are in this set.
    #[serde(default)]
    pub all_in: Option<Vec<String>>,
    /// Test: the array is non-empty (`true`) or empty (`false`).
    #[serde(default)]
    pub nonempty: Option<bool>,
    /// Test: the number is at least this.
    #[serde(default)]
    pub at_least: Option<f64>,
    /// Label when the test holds.
    #[serde(default)]
    pub then: Option<String>,
    /// Label when the test fails.
    #[serde(default, rename = "else")]
    pub otherwise: Option<String>,
    /// Label when the field is missing or null (by default: unlabelled).
    #[serde(default)]
    pub missing: Option<String>,
}

impl LabelRule {
    pub(crate) fn has_test(&self) -> bool {
        self.contains.is_some()
            || self.any_of.is_some()
            || self.all_in.is_some()
            || self.nonempty.is_some()
            || self.at_least.is_some()
    }

    /// The label this rule reads from `row`, or `None` if unlabelled.
    pub fn label(&self, row: &Value) -> Option<String> {
        let Some(mut v) = lookup(row, &self.field).filter(|v| !v.is_null()) else {
            return self.missing.clone();
        };
        if self.single || self.fractional {
            match v {
                Value::Array(a) if a.len() == 1 => v = &a[0],
                // Several values that come to one label are that label.
                Value::Array(a) if self.fractional => {
                    let labels = self.distinct_labels(a);
                    return (labels.len() == 1).then(|| labels[0].clone());
                }
                _ => return None,
            }
        }
        if self.has_test() {
            let items: Vec<String> = match v {
                Value::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            let holds = if let Some(c) = &self.contains {
                items.contains(c)
            } else if let Some(any) = &self.any_of {
                items.iter().any(|i| any.contains(i))
            } else if let Some(all) = &self.all_in {
                !items.is_empty() && items.iter().all(|i| all.contains(i))
            } else if let Some(nonempty) = self.nonempty {
                let empty = match v {
                    Value::Array(a) => a.is_empty(),
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                empty != nonempty
            } else if let Some(min) = self.at_least {
                v.as_f64()? >= min
            } else {
                false
            };
            return if holds {
                self.then.clone()
            } else {
                self.otherwise.clone()
            };
        }
        let s = scalar(v)?;
        if self.map.is_empty() {
            Some(s)
        } else {
            self.map.get(&s).cloned()
        }
    }
}

impl LabelRule {
    /// With `fractional`, for an array of several distinct values: each
    /// value (through `map`, when one is given; unmapped values are left
    /// out) with weight 1/n, n the number of values kept. Empty otherwise.
    pub fn fractional_labels(&self, row: &Value) -> Vec<(String, f32)> {
        if !self.fractional {
            return Vec::new();
        }
        let Some(Value::Array(items)) = lookup(row, &self.field) else {
            return Vec::new();
        };
        let labels = self.distinct_labels(items);
        if labels.len() < 2 {
            return Vec::new();
        }
        let w = 1.0 / labels.len() as f32;
        labels.into_iter().map(|l| (l, w)).collect()
    }
}

impl LabelRule {
    /// The distinct labels of an array's values, through `map` when one is
    /// given (unmapped values are left out), in order of appearance.
    fn distinct_labels(&self, items: &[Value]) -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        for item in items {
            let Some(s) = scalar(item) else { continue };
            let label = if self.map.is_empty() {
                Some(s)
            } else {
                self.map.get(&s).cloned()
            };
            if let Some(l) = label.filter(|l| !labels.contains(l)) {
                labels.push(l);
            }
        }
        labels
    }
}

fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(row, |v, key| v.get(key))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Which part of the split a comment is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Used for training.
    Train,
    /// Held out for validation.
    Holdout,
}

/// One labelled comment.
#[derive(Debug, Clone)]
pub struct Example {
    /// The comment.
    pub text: String,
    /// Per head (in configuration order), the label index, if labelled.
    pub labels: Vec<Option<u16>>,
    /// Training weight.
    pub weight: f32,
    /// Index of the source in the configuration.
    pub source: usize,
    /// Train or held out.
    pub part: Part,
    /// The split hash, for folds.
    pub hash: u64,
    /// Fractional labels, training only: (head, label index, weight
    /// fraction), from rules with `fractional`.
    pub fractional: Vec<(usize, u16, f32)>,
}

impl Example {
    /// The labels of head `head` this comment carries, each with its share
    /// of the comment's weight: its label with share 1, or the labels of a
    /// `fractional` rule with their fractions. Empty if it has none.
    pub fn shares(&self, head: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let single = self.labels.get(head).copied().flatten();
        let fractional = self
            .fractional
            .iter()
            .filter(move |&&(h, _, _)| h == head)
            .map(|&(_, c, frac)| (usize::from(c), frac));
        single
            .map(|c| (usize::from(c), 1.0))
            .into_iter()
            .chain(fractional)
    }
}

/// A head's labels as found in configuration and data.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadLabels {
    /// Name.
    pub name: String,
    /// Labels in output order.
    pub labels: Vec<String>,
    /// Index of the positive label of a binary head.
    pub positive: Option<usize>,
}

/// Counts of what reading a source did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceReport {
    /// Source name.
    pub name: String,
    /// Rows read.
    pub rows: u64,
    /// Rows kept.
    pub kept: u64,
    /// Of the kept rows, held out.
    pub holdout: u64,
    /// Rows dropped as duplicates of an earlier comment.
    pub duplicates: u64,
    /// Rows dropped because no head got a label (or, held out, only
    /// fractional labels, which are for training).
    pub unlabelled: u64,
    /// Malformed rows skipped (only with `skip_invalid`).
    pub invalid: u64,
    /// Rows dropped by `max_rows`.
    pub capped: u64,
}

/// Options for reading data.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Skip and count malformed rows instead of stopping.
    pub skip_invalid: bool,
    /// Leave out these sources.
    pub exclude: Vec<String>,
    /// Read only these sources (all if empty).
    pub only: Vec<String>,
    /// Leave out a head that no row gives a label, instead of stopping:
    /// evaluating a model on data labelled for some of its heads.
    pub drop_unlabelled_heads: bool,
}

/// Labelled comments read from every source.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The heads, in configuration order.
    pub heads: Vec<HeadLabels>,
    /// The comments.
    pub examples: Vec<Example>,
    /// Source names, in configuration order.
    pub sources: Vec<String>,
    /// What reading each source did.
    pub reports: Vec<SourceReport>,
}

/// FNV-1a over the comment's lower-cased words: the key for the split and
/// for duplicate detection.
pub fn text_key(seed: u64, text: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut first = true;
    for word in text.split_whitespace() {
        if !first {
            h = (h ^ u64::from(b' ')).wrapping_mul(0x0000_0100_0000_01b3);
        }
        first = false;
        // An ASCII word lowers byte by byte, to the bytes the general
        // path below gives it.
        if word.is_ascii() {
            for b in word.bytes().map(|b| b.to_ascii_lowercase()) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
            continue;
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    // Final avalanche so the low bits used for folds are well mixed.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The fraction in [0, 1) a hash stands for.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl Dataset {
    /// Reads every source of `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] for an unreadable file, [`Error::Data`] naming file and
    /// line for a malformed row (unless `skip_invalid`), [`Error::Config`]
    /// for an unknown source name in the options.
    pub fn load(config: &TrainingConfig, options: &LoadOptions) -> Result<Dataset> {
        for name in options.exclude.iter().chain(&options.only) {
            if !config.sources.iter().any(|s| &s.name == name) {
                let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
                return Err(Error::InvalidSetting(format!(
                    "there is no source {name:?} (sources: {})",
                    known.join(", ")
                )));
            }
        }
        let mut heads: Vec<HeadLabels> = config
            .heads
            .iter()
            .map(|h| HeadLabels {
                name: h.name.clone(),
                labels: h.labels.clone().unwrap_or_default(),
                positive: None,
            })
            .collect();
        let fixed: Vec<bool> = config.heads.iter().map(|h| h.labels.is_some()).collect();
        // Labels as strings first; indices once all labels are known.
        type Fractional = Vec<(usize, String, f32)>;
        let mut raw: Vec<(Example, Vec<Option<String>>, Fractional)> = Vec::new();
        // Keys of the rows kept so far, after `max_rows`: a row the cap
        // leaves out is not in the data, and shadows no duplicate.
        let mut seen = HashSet::new();
        // Training rows with only fractional labels: kept aside, so they
        // neither count toward `max_rows` nor shadow a duplicate with
        // ordinary labels (other heads see the same rows with or without
        // them); once every source is read, kept unless such a duplicate
        // or an earlier one of their own kind was.
        let mut fractional_only: Vec<(Example, Vec<Option<String>>, Fractional)> = Vec::new();
        let mut reports = Vec::new();
        for (si, source) in config.sources.iter().enumerate() {
            let mut report = SourceReport {
                name: source.name.clone(),
                ..SourceReport::default()
            };
            let skipped = options.exclude.contains(&source.name)
                || (!options.only.is_empty() && !options.only.contains(&source.name));
            if skipped {
                reports.push(report);
                continue;
            }
            let rules: Vec<Option<&LabelRule>> = config
                .heads
                .iter()
                .map(|h| source.heads.get(&h.name))
                .collect();
            let cap = source.max_rows;
            let start = raw.len();
            let mut in_source = HashSet::new();
            let mut on_row = |line: u64, row: Value, report: &mut SourceReport| -> Result<()> {
                report.rows += 1;
                let text = match lookup(&row, &source.text) {
                    Some(Value::String(s)) => s.clone(),
                    Some(_) => {
                        return Err(data_error(
                            &source.path,
                            line,
                            format!("field {:?} is not a string", source.text),
                        ))
                    }
                    None => {
                        return Err(data_error(
                            &source.path,
                            line,
                            format!("missing field {:?}", source.text),
                        ))
                    }
                };
                let labels: Vec<Option<String>> = rules
                    .iter()
                    .map(|r| r.and_then(|r| r.label(&row)))
                    .collect();
                // A head with a fixed list of labels accepts only those.
                let check = |hi: usize, l: &str| -> Result<()> {
                    if fixed[hi] && !heads[hi].labels.iter().any(|x| x == l) {
                        return Err(data_error(
                            &source.path,
                            line,
                            format!(
                                "label {l:?} is not one of head {:?}'s labels ({})",
                                heads[hi].name,
                                heads[hi].labels.join(", ")
                            ),
                        ));
                    }
                    Ok(())
                };
                for (hi, l) in labels.iter().enumerate() {
                    if let Some(l) = l {
                        check(hi, l)?;
                    }
                }
                let mut fractional: Fractional = Vec::new();
                for (hi, r) in rules.iter().enumerate() {
                    for (l, w) in r.map(|r| r.fractional_labels(&row)).unwrap_or_default() {
                        check(hi, &l)?;
                        fractional.push((hi, l, w));
                    }
                }
                let key = text_key(config.split.seed, &text);
                let part = if source.holdout_only || unit(key) < config.split.holdout {
                    Part::Holdout
                } else {
                    Part::Train
                };
                let example = Example {
                    text,
                    labels: Vec::new(),
                    weight: source.weight,
                    source: si,
                    part,
                    hash: key,
                    fractional: Vec::new(),
                };
                if labels.iter().all(Option::is_none) {
                    if fractional.is_empty() || part == Part::Holdout {
                        // Held out, fractional labels would never be used.
                        report.unlabelled += 1;
                    } else {
                        fractional_only.push((example, labels, fractional));
                    }
                    return Ok(());
                }
                if seen.contains(&key) || !in_source.insert(key) {
                    report.duplicates += 1;
                    return Ok(());
                }
                raw.push((example, labels, fractional));
                report.kept += 1;
                if part == Part::Holdout {
                    report.holdout += 1;
                }
                Ok(())
            };
            read_rows(source, options.skip_invalid, &mut report, &mut on_row)?;
            if let Some(cap) = cap {
                // Keep a fixed subset: the `cap` rows with the smallest
                // hashes (independent of the split, which uses `unit`).
                let part = &mut raw[start..];
                if part.len() > cap {
                    part.sort_by_key(|(e, _, _)| e.hash.rotate_left(29));
                    let dropped = part.len() - cap;
                    let dropped_holdout = part[cap..]
                        .iter()
                        .filter(|(e, _, _)| e.part == Part::Holdout)
                        .count() as u64;
                    raw.truncate(start + cap);
                    report.capped = dropped as u64;
                    report.kept -= dropped as u64;
                    report.holdout -= dropped_holdout;
                }
            }
            seen.extend(raw[start..].iter().map(|(e, _, _)| e.hash));
            reports.push(report);
        }
        for row in fractional_only {
            let report = &mut reports[row.0.source];
            if seen.insert(row.0.hash) {
                report.kept += 1;
                raw.push(row);
            } else {
                report.duplicates += 1;
            }
        }
        // Discover labels of heads without a fixed list: sorted, so the
        // order does not depend on the order of the data.
        for (hi, head) in heads.iter_mut().enumerate() {
            if fixed[hi] {
                continue;
            }
            let mut set: Vec<String> = raw
                .iter()
                .flat_map(|(_, l, f)| {
                    l[hi].iter().cloned().chain(
                        f.iter()
                            .filter(|(h, _, _)| *h == hi)
                            .map(|(_, l, _)| l.clone()),
                    )
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            set.dedup();
            head.labels = set;
        }
        // Heads no row labels, left out when the options say so: their
        // columns go from every row, and later heads move up.
        let keep: Vec<bool> = heads
            .iter()
            .map(|h| !(options.drop_unlabelled_heads && h.labels.is_empty()))
            .collect();
        if !keep.iter().any(|&k| k) {
            return Err(Error::NoData(format!(
                "no row gives a label to any of the heads ({})",
                heads
                    .iter()
                    .map(|h| h.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let new_index: Vec<Option<usize>> = keep
            .iter()
            .scan(0, |next, &k| {
                let at = k.then_some(*next);
                *next += usize::from(k);
                Some(at)
            })
            .collect();
        let original: Vec<usize> = (0..heads.len()).filter(|&h| keep[h]).collect();
        let mut kept = keep.iter();
        heads.retain(|_| *kept.next().expect("one flag per head"));
        for (_, labels, fractional) in raw.iter_mut() {
            let mut kept = keep.iter();
            labels.retain(|_| *kept.next().expect("one label per head"));
            fractional.retain_mut(|(hi, _, _)| match new_index[*hi] {
                Some(at) => {
                    *hi = at;
                    true
                }
                None => false,
            });
        }
        for (hi, head) in heads.iter_mut().enumerate() {
            if head.labels.len() < 2 {
                return Err(Error::NoData(format!(
                    "head {:?} needs examples of at least two labels, but has {}",
                    head.name,
                    if head.labels.is_empty() {
                        "none".to_string()
                    } else {
                        format!("only {:?}", head.labels)
                    }
                )));
            }
            if head.labels.len() == 2 {
                let wanted = config.heads[original[hi]].positive.clone();
                head.positive = Some(match wanted {
                    Some(p) => head.labels.iter().position(|l| *l == p).ok_or_else(|| {
                        Error::InvalidSetting(format!(
                            "head {:?}: positive label {p:?} is not one of its labels ({})",
                            head.name,
                            head.labels.join(", ")
                        ))
                    })?,
                    None => guess_positive(&head.labels),
                });
            }
        }
        let examples = raw
            .into_iter()
            .map(|(mut e, labels, fractional)| {
                e.labels = labels
                    .iter()
                    .zip(&heads)
                    .map(|(l, h)| {
                        l.as_ref()
                            .and_then(|l| h.labels.iter().position(|x| x == l))
                            .map(|i| i as u16)
                    })
                    .collect();
                e.fractional = fractional
                    .iter()
                    .filter_map(|(hi, l, w)| {
                        let c = heads[*hi].labels.iter().position(|x| x == l)?;
                        Some((*hi, c as u16, *w))
                    })
                    .collect();
                e
            })
            .collect();
        Ok(Dataset {
            heads,
            examples,
            sources: config.sources.iter().map(|s| s.name.clone()).collect(),
            reports,
        })
    }
}

/// The label of a binary head whose probability is reported, when the
/// configuration does not say: a label that names the problem, else the
/// second in sorted order.
fn guess_positive(labels: &[String]) -> usize {
    const NAMES: &[&str] = &[
        "uncivil",
        "toxic",
        "true",
        "yes",
        "1",
        "positive",
        "offensive",
    ];
    labels
        .iter()
        .position(|l| NAMES.contains(&l.to_lowercase().as_str()))
        .unwrap_or(1)
}

fn data_error(path: &Path, line: u64, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn read_rows(
    source: &SourceConfig,
    skip_invalid: bool,
    report: &mut SourceReport,
    on_row: &mut dyn FnMut(u64, Value, &mut SourceReport) -> Result<()>,
) -> Result<()> {
    let path = &source.path;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let format = source
        .format
        .unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        });
    // A malformed row stops reading with its file and line, or with
    // `skip_invalid` is counted and skipped.
    let mut handle = |line: u64, row: Result<Value>, report: &mut SourceReport| -> Result<()> {
        let result = match row {
            Ok(row) => on_row(line, row, report),
            Err(e) => {
                report.rows += 1;
                Err(e)
            }
        };
        match result {
            Err(Error::Data { .. }) if skip_invalid => {
                report.invalid += 1;
                Ok(())
            }
            other => other,
        }
    };
    match format {
        Format::Jsonl => {
            let mut reader = std::io::BufReader::new(file);
            let mut bytes = Vec::new();
            for n in 1.. {
                match read_line_limited(&mut reader, &mut bytes, MAX_LINE_BYTES) {
                    Err(e) => return Err(Error::io(path, e)),
                    Ok(LineRead::End) => break,
                    Ok(LineRead::Line) => {}
                    // Not skippable: the rest of the line is unread.
                    Ok(LineRead::TooLong) => {
                        return Err(data_error(
                            path,
                            n,
                            format!("line longer than {MAX_LINE_BYTES} bytes, the most a data file's line may hold"),
                        ))
                    }
                }
                let row = match std::str::from_utf8(&bytes) {
                    Err(e) => Err(data_error(
                        path,
                        n,
                        format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                    )),
                    Ok(s) if s.trim().is_empty() => continue,
                    Ok(s) => match serde_json::from_str::<Value>(s) {
                        Ok(v @ Value::Object(_)) => Ok(v),
                        Ok(_) => Err(data_error(path, n, "expected a JSON object".into())),
                        Err(e) => Err(data_error(path, n, format!("invalid JSON: {e}"))),
                    },
                };
                handle(n, row, report)?;
            }
        }
        Format::Csv => {
            // The csv crate buffers a whole record; a line longer than the
            // limit makes the input fail instead of growing that buffer.
            let too_long = std::rc::Rc::new(std::cell::Cell::new(None));
            let capped = LineCap::new(std::io::BufReader::new(file), MAX_LINE_BYTES, &too_long);
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(capped);
            let headers = reader
                .headers()
                .map_err(|e| data_error(path, 1, format!("invalid CSV header: {e}")))?
                .clone();
            for record in reader.records() {
                let (line, row) = match record {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line());
                        let obj = headers
                            .iter()
                            .zip(r.iter())
                            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                            .collect();
                        (line, Ok(Value::Object(obj)))
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        // Not skippable: the rest of the line is unread.
                        if let Some(long_line) = too_long.get() {
                            return Err(data_error(
                                path,
                                long_line,
                                format!("line longer than {MAX_LINE_BYTES} bytes, the most a data file's line may hold"),
                            ));
                        }
                        (
                            line,
                            Err(data_error(path, line, format!("invalid CSV: {e}"))),
                        )
                    }
                };
                handle(line, row, report)?;
            }
        }
    }
    Ok(())
}

/// A reader that fails once a CSV record runs past `max` bytes, setting
/// `tripped` to the number of the line it started on, so a reader that
/// buffers whole records (the csv crate) cannot be made to hold an
/// unbounded one. A newline inside a quoted field does not end the record.
struct LineCap<R> {
    inner: R,
    /// Bytes of the current record so far.
    line: usize,
    /// Where in a field the last byte was, as the csv crate reads it.
    field: Field,
    /// The line the current record started on.
    record_line: u64,
    /// The current line's number, from 1.
    line_no: u64,
    max: usize,
    tripped: std::rc::Rc<std::cell::Cell<Option<u64>>>,
}

/// Where a CSV reader is in a field. As in the csv crate, a quote opens
/// a quoted field only at the start of a field (`5" screen` is plain
/// text), and inside one a doubled quote stands for a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// At the start of a field: after a comma, a record's end, or at the
    /// start of the input.
    Start,
    /// In a field that did not start with a quote.
    Plain,
    /// In a quoted field, where a newline does not end the record.
    Quoted,
    /// Just after a quote in a quoted field: its end, or half of `""`.
    QuoteInQuoted,
}

impl Field {
    fn next(self, b: u8) -> Field {
        match (self, b) {
            (Field::Quoted, b'"') => Field::QuoteInQuoted,
            (Field::Quoted, _) => Field::Quoted,
            (Field::Start | Field::QuoteInQuoted, b'"') => Field::Quoted,
            (_, b',' | b'\n') => Field::Start,
            _ => Field::Plain,
        }
    }
}

impl<R> LineCap<R> {
    /// Reads `inner`, failing once a record passes `max` bytes; the line
    /// the record started on goes into `tripped`.
    fn new(inner: R, max: usize, tripped: &std::rc::Rc<std::cell::Cell<Option<u64>>>) -> Self {
        LineCap {
            inner,
            line: 0,
            field: Field::Start,
            record_line: 1,
            line_no: 1,
            max,
            tripped: std::rc::Rc::clone(tripped),
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tripped.get().is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "line too long",
            ));
        }
        // Never more than the rest of the allowed line at once.
        let room = (self.max + 1).saturating_sub(self.line).max(1);
        let n = buf.len().min(room);
        let n = self.inner.read(&mut buf[..n])?;
        for &b in &buf[..n] {
            self.field = self.field.next(b);
            if b == b'\n' {
                self.line_no += 1;
                if self.field != Field::Quoted {
                    self.line = 0;
                    self.record_line = self.line_no;
                    continue;
                }
            }
            self.line += 1;
            if self.line > self.max {
                self.tripped.set(Some(self.record_line));
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "line too long",
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_line_cap_fails_past_its_limit_only() {
        use std::io::Read;
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let mut ok = LineCap::new(&b"ab\ncd\nefg"[..], 3, &tripped);
        let mut all = Vec::new();
        ok.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"ab\ncd\nefg");
        assert_eq!(tripped.get(), None);
        let mut long = LineCap::new(&b"ab\ncdefgh\n"[..], 3, &tripped);
        let mut some = Vec::new();
        assert!(long.read_to_end(&mut some).is_err());
        assert_eq!(tripped.get(), Some(2));
        // A quoted field's newlines do not end the record: a record of
        // short lines is still one record.
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let mut quoted = LineCap::new(&b"a\n\"b\nc\nd\ne\"\nf"[..], 6, &tripped);
        assert!(quoted.read_to_end(&mut Vec::new()).is_err());
        assert_eq!(tripped.get(), Some(2));
        // A quote inside a field is text, as the csv crate reads it: the
        // short lines after it are records of their own.
        let tripped = std::rc::Rc::new(std::cell::Cell::new(None));
        let text = "a,5\" tv\nb,c\nd,e\nf,\"g\"\"h\"\ni,j\n";
        let mut mid = LineCap::new(text.as_bytes(), 8, &tripped);
        let mut all = Vec::new();
        mid.read_to_end(&mut all).unwrap();
        assert_eq!(tripped.get(), None);
        let records = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .count();
        assert_eq!(records, 5);
        assert!(some.len() <= 7, "{some:?}");
    }

    fn rule(toml_text: &str) -> LabelRule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn label_rules() {
        let row = json!({"class": "neither", "toxic": 1, "flag": true,
            "types": ["Insult", "Threat"], "ekman": ["joy"], "sent": ["positive", "neutral"],
            "n": {"threat": 2}});
        assert_eq!(rule("field = 'flag'").label(&row), Some("true".into()));
        assert_eq!(rule("field = 'toxic'").label(&row), Some("1".into()));
        assert_eq!(
            rule("field = 'class'\nmap = { neither = 'civil' }").label(&row),
            Some("civil".into())
        );
        assert_eq!(
            rule("field = 'class'\nmap = { hate = 'x' }").label(&row),
            None
        );
        assert_eq!(
            rule("field = 'types'\ncontains = 'Insult'\nthen = 'true'\nelse = 'false'").label(&row),
            Some("true".into())
        );
        assert_eq!(
            rule("field = 'types'\ncontains = 'Profane'\nthen = 'true'\nelse = 'false'")
                .label(&row),
            Some("false".into())
        );
        assert_eq!(
            rule("field = 'ekman'\nsingle = true").label(&row),
            Some("joy".into())
        );
        assert_eq!(rule("field = 'types'\nsingle = true").label(&row), None);
        assert_eq!(
            rule("field = 'sent'\nall_in = ['positive', 'neutral']\nthen = 'civil'").label(&row),
            Some("civil".into())
        );
        assert_eq!(
            rule("field = 'n.threat'\nat_least = 2\nthen = 'true'\nelse = 'false'").label(&row),
            Some("true".into())
        );
        assert_eq!(rule("field = 'missing'").label(&row), None);
        assert_eq!(
            rule("field = 'n.insult'\nat_least = 1\nthen = 'true'\nelse = 'false'\nmissing = 'false'")
                .label(&row),
            Some("false".into())
        );
        let spans = json!({"spans": [[0, 4]], "none": []});
        let nonempty = "nonempty = true\nthen = 'uncivil'\nelse = 'civil'";
        assert_eq!(
            rule(&format!("field = 'spans'\n{nonempty}")).label(&spans),
            Some("uncivil".into())
        );
        assert_eq!(
            rule(&format!("field = 'none'\n{nonempty}")).label(&spans),
            Some("civil".into())
        );
    }

    #[test]
    fn text_key_of_ascii_words_as_of_any_words() {
        // The general path, for every word.
        let general = |seed: u64, text: &str| {
            let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for (i, word) in text.split_whitespace().enumerate() {
                if i > 0 {
                    h = (h ^ u64::from(b' ')).wrapping_mul(0x0000_0100_0000_01b3);
                }
                for c in word.chars().flat_map(char::to_lowercase) {
                    for &b in c.encode_utf8(&mut [0u8; 4]).as_bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
                    }
                }
            }
            h ^= h >> 33;
            h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^ (h >> 33)
        };
        for text in [
            "Hello World",
            "WHAT an 1D10T!!",
            "Straße İstanbul ok",
            "",
            " a\tb ",
        ] {
            assert_eq!(text_key(7, text), general(7, text), "{text:?}");
        }
    }

    #[test]
    fn text_key_ignores_case_and_spacing() {
        assert_eq!(text_key(1, "Hello  World"), text_key(1, "hello world\n"));
        assert_ne!(text_key(1, "hello world"), text_key(2, "hello world"));
        assert_ne!(text_key(1, "hello world"), text_key(1, "helloworld"));
    }

    #[test]
    fn shares_give_single_and_fractional_labels_alike() {
        let e = Example {
            text: "a".into(),
            labels: vec![Some(1), None, None],
            weight: 2.0,
            source: 0,
            part: Part::Train,
            hash: 0,
            fractional: vec![(1, 0, 0.5), (2, 3, 0.25), (1, 2, 0.5)],
        };
        assert_eq!(e.shares(0).collect::<Vec<_>>(), vec![(1, 1.0)]);
        assert_eq!(e.shares(1).collect::<Vec<_>>(), vec![(0, 0.5), (2, 0.5)]);
        assert_eq!(e.shares(2).collect::<Vec<_>>(), vec![(3, 0.25)]);
        assert_eq!(e.shares(3).count(), 0);
    }

    #[test]
    fn fractional_rules() {
        let r = rule("field = 'ekman'\nfractional = true");
        let one = json!({"ekman": ["joy"]});
        let two = json!({"ekman": ["joy", "anger", "joy"]});
        let three = json!({"ekman": ["joy", "anger", "fear"]});
        assert_eq!(r.label(&one), Some("joy".into()));
        assert!(r.fractional_labels(&one).is_empty());
        assert_eq!(r.label(&two), None);
        assert_eq!(
            r.fractional_labels(&two),
            vec![("joy".to_string(), 0.5), ("anger".to_string(), 0.5)]
        );
        let third = 1.0 / 3.0;
        assert_eq!(
            r.fractional_labels(&three),
            vec![
                ("joy".to_string(), third),
                ("anger".to_string(), third),
                ("fear".to_string(), third)
            ]
        );
        // Through a map; unmapped values are left out.
        let mapped = rule("field = 'ekman'\nfractional = true\nmap = { joy = 'j', fear = 'f' }");
        assert_eq!(
            mapped.fractional_labels(&three),
            vec![("j".to_string(), 0.5), ("f".to_string(), 0.5)]
        );
        assert!(mapped.fractional_labels(&two).is_empty());
        // Several values that come to one label are that label, not
        // an unlabelled row.
        assert_eq!(mapped.label(&two), Some("j".into()));
        assert_eq!(
            r.label(&json!({"ekman": ["joy", "joy"]})),
            Some("joy".into())
        );
        assert_eq!(mapped.label(&json!({"ekman": ["anger", "disgust"]})), None);
        // Without `fractional`, or without an array, nothing.
        assert!(rule("field = 'ekman'\nsingle = true")
            .fractional_labels(&two)
            .is_empty());
        assert!(r.fractional_labels(&json!({"ekman": "joy"})).is_empty());
    }

    fn fractional_config(dir: &Path, rows: &str, extra: &str) -> Result<TrainingConfig> {
        std::fs::write(dir.join("rows.jsonl"), rows).unwrap();
        let config = format!(
            "[split]\nholdout = 0.5\n\n[[heads]]\nname = 'tone'\nlabels = ['joy', 'anger', 'fear']\n\n\
             [[heads]]\nname = 'civil'\n\n\
             [[sources]]\nname = 'rows'\npath = 'rows.jsonl'\n\
             heads.tone = {{ field = 'ekman', fractional = true {extra}}}\n\
             heads.civil = {{ field = 'civil' }}\n"
        );
        let path = dir.join("config.toml");
        std::fs::write(&path, config).unwrap();
        TrainingConfig::from_path(&path)
    }

    #[test]
    fn fractional_labels_are_for_training_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = String::new();
        for i in 0..200 {
            // Multi-label rows, some with a label of another head.
            let civil = if i % 2 == 0 {
                ", \"civil\": \"yes\""
            } else {
                ""
            };
            rows.push_str(&format!(
                "{{\"text\": \"multi {i}\", \"ekman\": [\"joy\", \"fear\"]{civil}}}\n"
            ));
        }
        // A fractional-only row and a later row with the same text and
        // ordinary labels: the later one is kept, unshadowed.
        rows.push_str("{\"text\": \"same text\", \"ekman\": [\"joy\", \"anger\"]}\n");
        rows.push_str("{\"text\": \"Same  text\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n");
        rows.push_str("{\"text\": \"single\", \"ekman\": [\"fear\"], \"civil\": \"yes\"}\n");
        let config = fractional_config(dir.path(), &rows, "").unwrap();
        let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
        let report = &data.reports[0];
        assert_eq!(report.rows, 203);
        assert_eq!(report.duplicates, 1);
        for e in data.examples.iter().filter(|e| e.text.starts_with("multi")) {
            let i: usize = e.text[6..].parse().unwrap();
            assert_eq!(e.labels[0], None, "no tone label to evaluate");
            assert_eq!(e.fractional, vec![(0, 0, 0.5), (0, 2, 0.5)]);
            assert_eq!(e.labels[1].is_some(), i % 2 == 0);
            if e.labels[1].is_none() {
                assert_eq!(e.part, Part::Train, "{}", e.text);
            }
        }
        // Rows whose only labels are fractional and that fall in the
        // held-out part are dropped as unlabelled.
        let kept_multi_only = data
            .examples
            .iter()
            .filter(|e| e.text.starts_with("multi") && e.labels[1].is_none())
            .count();
        assert!(
            kept_multi_only > 20 && kept_multi_only < 80,
            "{kept_multi_only}"
        );
        assert_eq!(report.unlabelled as usize, 100 - kept_multi_only);
        let same: Vec<_> = data
            .examples
            .iter()
            .filter(|e| e.text.to_lowercase().starts_with("same"))
            .collect();
        assert_eq!(same.len(), 1);
        assert_eq!(same[0].text, "Same  text");
        assert_eq!(same[0].labels[0], Some(1));
        assert!(same[0].fractional.is_empty());
        assert_eq!(report.kept as usize, data.examples.len());
    }

    #[test]
    fn heads_no_row_labels_can_be_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ours.jsonl");
        std::fs::write(
            &path,
            "{\"text\": \"a\", \"incivility\": \"civil\", \"tone\": \"joy\"}\n\
             {\"text\": \"b\", \"incivility\": \"uncivil\", \"tone\": \"anger\"}\n",
        )
        .unwrap();
        let heads: Vec<String> = ["incivility", "insult", "tone"].map(String::from).to_vec();
        let config = TrainingConfig::from_files(&[path], "text", &heads);
        let err = Dataset::load(&config, &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("\"insult\""), "{err}");
        let options = LoadOptions {
            drop_unlabelled_heads: true,
            ..LoadOptions::default()
        };
        let data = Dataset::load(&config, &options).unwrap();
        let names: Vec<&str> = data.heads.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["incivility", "tone"]);
        assert_eq!(data.heads[0].positive, Some(1));
        let labels: Vec<Vec<Option<u16>>> =
            data.examples.iter().map(|e| e.labels.clone()).collect();
        // incivility: civil, uncivil; tone: anger, joy.
        assert_eq!(labels, [vec![Some(0), Some(1)], vec![Some(1), Some(0)]]);

        // Fractional labels move with their head.
        std::fs::write(
            dir.path().join("f.jsonl"),
            "{\"text\": \"a\", \"emotions\": [\"joy\", \"anger\"]}\n\
             {\"text\": \"b\", \"emotions\": [\"joy\"]}\n\
             {\"text\": \"c\", \"emotions\": [\"anger\"]}\n",
        )
        .unwrap();
        let config = "[split]\nholdout = 0.0\n\n\
             [[heads]]\nname = 'x'\n\n[[heads]]\nname = 'tone'\n\n\
             [[sources]]\nname = 's'\npath = 'f.jsonl'\n\
             heads.x = { field = 'x' }\n\
             heads.tone = { field = 'emotions', fractional = true }\n";
        std::fs::write(dir.path().join("c.toml"), config).unwrap();
        let config = TrainingConfig::from_path(dir.path().join("c.toml")).unwrap();
        let data = Dataset::load(&config, &options).unwrap();
        assert_eq!(data.heads.len(), 1);
        let a = data.examples.iter().find(|e| e.text == "a").unwrap();
        assert_eq!(a.labels, [None]);
        assert_eq!(a.fractional, [(0, 1, 0.5), (0, 0, 0.5)]);
    }

    #[test]
    fn rows_left_out_by_max_rows_shadow_no_duplicate() {
        // Source `a` keeps one of "alpha" and "beta"; each also has a row
        // with fractional labels there, and one with ordinary labels in
        // `b`.
        let dir = tempfile::tempdir().unwrap();
        let a = "{\"text\": \"alpha\", \"ekman\": [\"joy\"], \"civil\": \"yes\"}\n\
                 {\"text\": \"beta\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n\
                 {\"text\": \"alpha\", \"ekman\": [\"joy\", \"fear\"]}\n\
                 {\"text\": \"beta\", \"ekman\": [\"anger\", \"fear\"]}\n";
        let b = "{\"text\": \"Alpha\", \"civil\": \"no\"}\n\
                 {\"text\": \"Beta\", \"civil\": \"yes\"}\n";
        std::fs::write(dir.path().join("a.jsonl"), a).unwrap();
        std::fs::write(dir.path().join("b.jsonl"), b).unwrap();
        let config = "[split]\nholdout = 0.0\n\n\
             [[heads]]\nname = 'tone'\nlabels = ['joy', 'anger', 'fear']\n\n\
             [[heads]]\nname = 'civil'\nlabels = ['yes', 'no']\n\n\
             [[sources]]\nname = 'a'\npath = 'a.jsonl'\nmax_rows = 1\n\
             heads.tone = { field = 'ekman', fractional = true }\n\
             heads.civil = { field = 'civil' }\n\n\
             [[sources]]\nname = 'b'\npath = 'b.jsonl'\n\
             heads.civil = { field = 'civil' }\n";
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let config = TrainingConfig::from_path(&path).unwrap();
        let load = |only: &[&str]| {
            let options = LoadOptions {
                only: only.iter().map(|s| s.to_string()).collect(),
                ..LoadOptions::default()
            };
            Dataset::load(&config, &options).unwrap()
        };
        let rows = |data: &Dataset, source: usize| -> Vec<(String, bool)> {
            data.examples
                .iter()
                .filter(|e| e.source == source)
                .map(|e| (e.text.to_lowercase(), !e.fractional.is_empty()))
                .collect()
        };
        let counts = |r: &SourceReport| (r.kept, r.capped, r.duplicates);

        // `a` alone: the row the cap keeps, and the fractional twin of the
        // one it leaves out (the kept row's twin is a duplicate).
        let data = load(&["a"]);
        let a = rows(&data, 0);
        assert_eq!(a.len(), 2, "{a:?}");
        let kept = a[0].0.clone();
        let capped = if kept == "alpha" { "beta" } else { "alpha" };
        assert_eq!(a, vec![(kept.clone(), false), (capped.into(), true)]);
        assert_eq!(counts(&data.reports[0]), (2, 1, 1));

        // With `b`: its ordinary twin of the row left out is kept, and
        // shadows a's fractional one.
        let data = load(&[]);
        assert_eq!(rows(&data, 0), vec![(kept, false)]);
        assert_eq!(rows(&data, 1), vec![(capped.into(), false)]);
        assert_eq!(counts(&data.reports[0]), (1, 1, 2));
        assert_eq!(counts(&data.reports[1]), (1, 0, 1));
    }

    #[test]
    fn fractional_labels_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let rows = "{\"text\": \"a\", \"ekman\": [\"joy\", \"disgust\"], \"civil\": \"yes\"}\n\
                    {\"text\": \"b\", \"ekman\": [\"anger\"], \"civil\": \"no\"}\n";
        let config = fractional_config(dir.path(), rows, "").unwrap();
        assert!(matches!(
            Dataset::load(&config, &LoadOptions::default()),
            Err(Error::Data { line: 1, .. })
        ));
        assert!(matches!(
            fractional_config(dir.path(), rows, ", contains = 'joy', then = 'joy'"),
            Err(Error::Config { .. })
        ));
    }
}
