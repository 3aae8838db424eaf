//! Reading every source of a configuration into one [`Dataset`]: labels
//! read by each source's rules, the split, duplicates dropped, `max_rows`
//! applied, and label names turned into indices.

use super::labels::{lookup, LabelRule};
use super::read::{data_error, read_rows};
use super::split::{cap_rank, part, text_key, Part};
use crate::config::{SourceConfig, TrainingConfig};
use crate::error::{Error, Result, SettingError};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

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

impl Dataset {
    /// Reads every source of `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] for an unreadable file, [`Error::Data`] naming file and
    /// line for a malformed row (unless `skip_invalid`), [`Error::Config`]
    /// for an unknown source name in the options (naming the configuration
    /// file, or without one the option, `--only` or `--exclude`).
    pub fn load(config: &TrainingConfig, options: &LoadOptions) -> Result<Dataset> {
        check_source_names(config, options)?;
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
        let (mut rows, reports) = read_sources(config, options, &heads, &fixed)?;
        discover_labels(&mut heads, &fixed, &rows);
        let original = drop_unlabelled_heads(&mut heads, &mut rows, options)?;
        choose_positive(&mut heads, config, &original)?;
        let examples = index_labels(rows, &heads);
        Ok(Dataset {
            heads,
            examples,
            sources: config.sources.iter().map(|s| s.name.clone()).collect(),
            reports,
        })
    }
}

impl LoadOptions {
    /// True if the source named `name` is to be read.
    fn reads(&self, name: &str) -> bool {
        let named = |names: &[String]| names.iter().any(|n| n == name);
        !(named(&self.exclude) || (!self.only.is_empty() && !named(&self.only)))
    }
}

/// Fails if `--exclude` or `--only` names a source the configuration does
/// not have: an error in the configuration's use, like one in the file.
fn check_source_names(config: &TrainingConfig, options: &LoadOptions) -> Result<()> {
    let named = [("--exclude", &options.exclude), ("--only", &options.only)];
    for (option, names) in named {
        for name in names {
            if config.sources.iter().any(|s| &s.name == name) {
                continue;
            }
            let known: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Config {
                path: config.file.clone().unwrap_or_else(|| option.into()),
                message: format!(
                    "{option} names {name:?}, which is not a source (sources: {})",
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// A row as read: its labels are still strings, and become indices once
/// every source is read and every head's labels are known.
struct RawRow {
    /// The comment, without its labels yet.
    example: Example,
    /// Per head (in configuration order), the label, if labelled.
    labels: Vec<Option<String>>,
    /// Fractional labels, from rules with `fractional`.
    fractional: Fractional,
}

/// (head, label, weight fraction) of each fractional label of a row.
type Fractional = Vec<(usize, String, f32)>;

/// Reads the sources the options name, in configuration order: the rows
/// kept, and a report per source (sources left out get an empty one).
fn read_sources(
    config: &TrainingConfig,
    options: &LoadOptions,
    heads: &[HeadLabels],
    fixed: &[bool],
) -> Result<(Vec<RawRow>, Vec<SourceReport>)> {
    let mut rows = Rows {
        config,
        heads,
        fixed,
        kept: Vec::new(),
        seen: HashSet::new(),
        fractional_only: Vec::new(),
    };
    let mut reports = Vec::new();
    for (index, source) in config.sources.iter().enumerate() {
        let mut report = SourceReport {
            name: source.name.clone(),
            ..SourceReport::default()
        };
        if options.reads(&source.name) {
            rows.read_source(index, source, options.skip_invalid, &mut report)?;
        }
        reports.push(report);
    }
    Ok(rows.finish(reports))
}

/// The rows kept while the sources are read, and what deciding on the
/// next ones needs.
struct Rows<'a> {
    config: &'a TrainingConfig,
    /// The heads, with their labels if the configuration fixes them.
    heads: &'a [HeadLabels],
    /// Per head, whether the configuration fixes its labels.
    fixed: &'a [bool],
    /// The rows kept so far.
    kept: Vec<RawRow>,
    /// Keys of the rows kept so far, after `max_rows`: a row the cap
    /// leaves out is not in the data, and shadows no duplicate.
    seen: HashSet<u64>,
    /// Training rows with only fractional labels: kept aside, so they
    /// neither count toward `max_rows` nor shadow a duplicate with
    /// ordinary labels (other heads see the same rows with or without
    /// them); once every source is read, kept unless such a duplicate or
    /// an earlier one of their own kind was.
    fractional_only: Vec<RawRow>,
}

/// One source being read.
struct SourceRows<'a> {
    /// Index of the source in the configuration.
    index: usize,
    source: &'a SourceConfig,
    /// Per head (in configuration order), the source's rule for it.
    rules: Vec<Option<&'a LabelRule>>,
    /// Keys of the rows of this source kept so far.
    keys: HashSet<u64>,
}

impl<'a> Rows<'a> {
    /// Reads one source, applies its `max_rows` and records the keys of
    /// the rows it keeps.
    fn read_source(
        &mut self,
        index: usize,
        source: &'a SourceConfig,
        skip_invalid: bool,
        report: &mut SourceReport,
    ) -> Result<()> {
        let mut current = SourceRows {
            index,
            source,
            rules: self
                .config
                .heads
                .iter()
                .map(|h| source.heads.get(&h.name))
                .collect(),
            keys: HashSet::new(),
        };
        let start = self.kept.len();
        read_rows(source, skip_invalid, report, &mut |line, row, report| {
            self.add_row(&mut current, line, row, report)
        })?;
        if let Some(cap) = source.max_rows {
            cap_rows(&mut self.kept, start, cap, report);
        }
        self.seen
            .extend(self.kept[start..].iter().map(|r| r.example.hash));
        Ok(())
    }

    /// Reads one row's text and labels, and keeps it unless it is
    /// unlabelled or a duplicate.
    fn add_row(
        &mut self,
        current: &mut SourceRows<'a>,
        line: u64,
        row: Value,
        report: &mut SourceReport,
    ) -> Result<()> {
        report.rows += 1;
        let source = current.source;
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
        let (labels, fractional) = self.labels(current, line, &row)?;
        let key = text_key(self.config.split.seed, &text);
        let part = part(key, self.config.split.holdout, source.holdout_only);
        let example = Example {
            text,
            labels: Vec::new(),
            weight: source.weight,
            source: current.index,
            part,
            hash: key,
            fractional: Vec::new(),
        };
        let row = RawRow {
            example,
            labels,
            fractional,
        };
        if row.labels.iter().all(Option::is_none) {
            if row.fractional.is_empty() || part == Part::Holdout {
                // Held out, fractional labels would never be used.
                report.unlabelled += 1;
            } else {
                self.fractional_only.push(row);
            }
            return Ok(());
        }
        if self.seen.contains(&key) || !current.keys.insert(key) {
            report.duplicates += 1;
            return Ok(());
        }
        self.kept.push(row);
        report.kept += 1;
        if part == Part::Holdout {
            report.holdout += 1;
        }
        Ok(())
    }

    /// The labels the source's rules read from `row`, single and
    /// fractional, each checked against its head's fixed labels.
    fn labels(
        &self,
        current: &SourceRows<'a>,
        line: u64,
        row: &Value,
    ) -> Result<(Vec<Option<String>>, Fractional)> {
        let labels: Vec<Option<String>> = current
            .rules
            .iter()
            .map(|r| r.and_then(|r| r.label(row)))
            .collect();
        let path = &current.source.path;
        for (hi, l) in labels.iter().enumerate() {
            if let Some(l) = l {
                self.check_label(hi, l, path, line)?;
            }
        }
        let mut fractional = Vec::new();
        for (hi, r) in current.rules.iter().enumerate() {
            for (l, w) in r.map(|r| r.fractional_labels(row)).unwrap_or_default() {
                self.check_label(hi, &l, path, line)?;
                fractional.push((hi, l, w));
            }
        }
        Ok((labels, fractional))
    }

    /// A head with a fixed list of labels accepts only those.
    fn check_label(&self, hi: usize, l: &str, path: &Path, line: u64) -> Result<()> {
        let head = &self.heads[hi];
        if self.fixed[hi] && !head.labels.iter().any(|x| x == l) {
            return Err(data_error(
                path,
                line,
                format!(
                    "label {l:?} is not one of head {:?}'s labels ({})",
                    head.name,
                    head.labels.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Every row kept: those kept while reading, then the training rows
    /// with only fractional labels whose text no row kept before has.
    fn finish(mut self, mut reports: Vec<SourceReport>) -> (Vec<RawRow>, Vec<SourceReport>) {
        for row in self.fractional_only {
            let report = &mut reports[row.example.source];
            if self.seen.insert(row.example.hash) {
                report.kept += 1;
                self.kept.push(row);
            } else {
                report.duplicates += 1;
            }
        }
        (self.kept, reports)
    }
}

/// Keeps `cap` of the rows a source added from `start` on: a fixed subset,
/// those first in [`cap_rank`] order.
fn cap_rows(rows: &mut Vec<RawRow>, start: usize, cap: usize, report: &mut SourceReport) {
    let part = &mut rows[start..];
    if part.len() <= cap {
        return;
    }
    part.sort_by_key(|r| cap_rank(r.example.hash));
    let dropped = part.len() - cap;
    let dropped_holdout = part[cap..]
        .iter()
        .filter(|r| r.example.part == Part::Holdout)
        .count() as u64;
    rows.truncate(start + cap);
    report.capped = dropped as u64;
    report.kept -= dropped as u64;
    report.holdout -= dropped_holdout;
}

/// Gives each head without a fixed list of labels the labels the rows
/// give it: sorted, so the order does not depend on the order of the data.
fn discover_labels(heads: &mut [HeadLabels], fixed: &[bool], rows: &[RawRow]) {
    for (hi, head) in heads.iter_mut().enumerate() {
        if fixed[hi] {
            continue;
        }
        let mut set: Vec<String> = rows
            .iter()
            .flat_map(|r| {
                r.labels[hi].iter().cloned().chain(
                    r.fractional
                        .iter()
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
}

/// Leaves out the heads no row labels, when the options say so: their
/// columns go from every row, and later heads move up. Returns, for each
/// head left, its index in the configuration.
fn drop_unlabelled_heads(
    heads: &mut Vec<HeadLabels>,
    rows: &mut [RawRow],
    options: &LoadOptions,
) -> Result<Vec<usize>> {
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
    for row in rows.iter_mut() {
        let mut kept = keep.iter();
        row.labels
            .retain(|_| *kept.next().expect("one label per head"));
        row.fractional
            .retain_mut(|(hi, _, _)| match new_index[*hi] {
                Some(at) => {
                    *hi = at;
                    true
                }
                None => false,
            });
    }
    Ok(original)
}

/// Checks that every head has at least two labels, and gives each binary
/// head its positive label: the configured one (`original` maps a head to
/// its index in the configuration), else a guess.
fn choose_positive(
    heads: &mut [HeadLabels],
    config: &TrainingConfig,
    original: &[usize],
) -> Result<()> {
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
                    SettingError::head(
                        &head.name,
                        format!(
                            "positive label {p:?} is not one of its labels ({})",
                            head.labels.join(", ")
                        ),
                    )
                })?,
                None => guess_positive(&head.labels),
            });
        }
    }
    Ok(())
}

/// The examples, with each label replaced by its index among its head's
/// labels.
fn index_labels(rows: Vec<RawRow>, heads: &[HeadLabels]) -> Vec<Example> {
    rows.into_iter()
        .map(|row| {
            let mut e = row.example;
            e.labels = row
                .labels
                .iter()
                .zip(heads)
                .map(|(l, h)| {
                    l.as_ref()
                        .and_then(|l| h.labels.iter().position(|x| x == l))
                        .map(|i| i as u16)
                })
                .collect();
            e.fractional = row
                .fractional
                .iter()
                .filter_map(|(hi, l, w)| {
                    let c = heads[*hi].labels.iter().position(|x| x == l)?;
                    Some((*hi, c as u16, *w))
                })
                .collect();
            e
        })
        .collect()
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

#[cfg(test)]
mod tests;
