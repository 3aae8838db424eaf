//! The training configuration: which pipeline and heads to train, how to
//! split and calibrate, and where the labelled comments come from.
//!
//! A [`TrainingConfig`] is a small TOML file (see `models/default.toml`).
//! It says which field of each corpus holds the text and how the corpus's
//! own fields map to the model's heads ([`crate::data::LabelRule`]), so
//! public corpora train without hand conversion. The same mapping can be
//! built from CLI flags for the simple case of files whose fields are named
//! after the heads ([`TrainingConfig::from_files`]).

use crate::data::LabelRule;
use crate::error::{Error, Result, SettingError};
use crate::model::naive_bayes::Variant;
use crate::model::params::{CalibrationConfig, CalibrationWeights, HeadConfig};
use crate::pipeline::PipelineConfig;
use crate::policy::Policy;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The configuration the default model is trained with.
const SHIPPED_CONFIG: &str = include_str!("../models/default.toml");

/// A training configuration: pipeline, heads, calibration, split, policy
/// and data sources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Normalization and feature settings.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// The heads to train, in output order.
    pub heads: Vec<HeadConfig>,
    /// How comments are split into training and held-out parts.
    #[serde(default)]
    pub split: SplitConfig,
    /// How probabilities are calibrated.
    #[serde(default)]
    pub calibration: CalibrationConfig,
    /// The decision policy stored in the model. By default: review at
    /// P ≥ 0.5 and reject at P ≥ 0.9 for the first binary head.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// Targets from which training chooses the main rule's thresholds.
    #[serde(default)]
    pub thresholds: Option<ThresholdTargets>,
    /// Where the labelled comments come from.
    pub sources: Vec<SourceConfig>,
    /// The file the configuration was read from ([`TrainingConfig::from_path`]);
    /// `None` for one built otherwise. Errors in the configuration name it.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// Targets for the policy's thresholds, met on the out-of-fold
/// probabilities of the calibration sources: review at the highest
/// threshold that still catches `review_recall` of the positive comments,
/// reject at the lowest threshold whose precision is `reject_precision`.
/// The two top-level targets are the main rule's; `heads` gives targets
/// for the rules of other heads:
///
/// ```toml
/// [thresholds]
/// review_recall = 0.8
/// reject_precision = 0.95
///
/// [thresholds.heads.threat]
/// reject_precision = 0.9
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdTargets {
    /// Share of positive (uncivil) comments that must reach review.
    #[serde(default)]
    pub review_recall: Option<f64>,
    /// Precision required of rejections.
    #[serde(default)]
    pub reject_precision: Option<f64>,
    /// Targets for the policy rule of each head named, other than the main
    /// rule's.
    #[serde(default)]
    pub heads: BTreeMap<String, Targets>,
    /// Keep the main rule's review threshold above the probability of a
    /// comment in which the model finds no evidence (empty, or only words
    /// it gives no weight): such a comment is allowed. Off by default.
    #[serde(default)]
    pub allow_no_evidence: bool,
}

/// The targets of one rule's thresholds (see [`ThresholdTargets`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Share of positive comments that must reach review.
    #[serde(default)]
    pub review_recall: Option<f64>,
    /// Precision required of rejections.
    #[serde(default)]
    pub reject_precision: Option<f64>,
}

impl ThresholdTargets {
    /// The main rule's targets.
    pub fn main(&self) -> Targets {
        Targets {
            review_recall: self.review_recall,
            reject_precision: self.reject_precision,
        }
    }
}

/// How comments are split into training and held-out parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitConfig {
    /// Seed of the split hash.
    pub seed: u64,
    /// Fraction of comments held out, in [0, 1).
    pub holdout: f64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            seed: 42,
            holdout: 0.1,
        }
    }
}

/// The file format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// One file of labelled comments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A short name, used in reports and by `--exclude`/`--only`.
    pub name: String,
    /// The file, relative to the configuration file.
    pub path: PathBuf,
    /// The format; by default from the extension (`.csv`, else JSONL).
    #[serde(default)]
    pub format: Option<Format>,
    /// The field holding the comment text.
    #[serde(default = "default_text_field")]
    pub text: String,
    /// Weight of each comment of this source in training.
    #[serde(default = "default_weight")]
    pub weight: f32,
    /// Use at most this many comments (a fixed, hash-chosen subset; rows
    /// whose only labels are fractional are not counted). A comment left
    /// out does not make its duplicates in other sources, or its rows with
    /// fractional labels, duplicates.
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// Never train on this source: evaluation only.
    #[serde(default)]
    pub holdout_only: bool,
    /// Reweight each head's labels within this source to equal total
    /// weight, so the model cannot learn "this kind of text is uncivil"
    /// from a corpus that is mostly one class.
    #[serde(default)]
    pub balance: bool,
    /// How the source's fields give each head's label.
    #[serde(default)]
    pub heads: BTreeMap<String, LabelRule>,
}

fn default_text_field() -> String {
    "text".into()
}

fn default_weight() -> f32 {
    1.0
}

impl TrainingConfig {
    /// Reads a configuration file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it cannot be read, [`Error::Config`] naming the
    /// problem if it is not a valid configuration.
    pub fn from_path(path: impl AsRef<Path>) -> Result<TrainingConfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut config: TrainingConfig = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for s in &mut config.sources {
            if s.path.is_relative() {
                s.path = base.join(&s.path);
            }
        }
        config.validate().map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message: message.to_string(),
        })?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// A configuration for the simple case: files whose fields are named
    /// after the heads, with the text in `text_field` (what `civility train
    /// FILE --head NAME` trains).
    ///
    /// It takes from the shipped configuration, `models/default.toml`
    /// (compiled in), every setting that does not depend on which corpora
    /// it trains on, since those are what make the default model work:
    ///
    /// | setting | taken | why |
    /// |---|---|---|
    /// | `[pipeline]` | all of it | normalization, n-grams, unit-length vectors and negation suit any comments |
    /// | head `alpha`, `variant`, `shrink`, `refine`, `calibration`, `calibrate`, `balance`, `tune_bias` | from the shipped head of the same name; a head it does not have takes those of its `insult` head, a plain binary head | smoothing suited to unit-length vectors, the refinement, the calibration map |
    /// | head `labels`, `positive` | no | the labels are the file's own |
    /// | `[calibration] folds`, `method` | yes | |
    /// | `[calibration] sources` | no: every file | they name the shipped corpora |
    /// | `[thresholds]` | yes | review catches 80% of the positive comments, rejections are 95% precise |
    /// | `[split] seed`, `holdout` | yes (10% held out) | the caller may change `split.holdout` |
    /// | `[[policy.rules]]` | no: review at 0.5 and reject at 0.9 on the first binary head, then chosen for `[thresholds]` | the other rules are for the shipped heads |
    ///
    /// Each file is a source with `balance` on: every label of a head gets
    /// the same total weight in training, so that a file that is mostly one
    /// class does not teach the model that every comment is of that class.
    /// Probabilities are still calibrated to the file's own mix of labels.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::TrainingConfig;
    /// use std::path::PathBuf;
    ///
    /// let files = [PathBuf::from("ours.jsonl")];
    /// let mut config = TrainingConfig::from_files(&files, "text", &["incivility".into()]);
    /// config.split.holdout = 0.0; // train on every comment
    /// assert_eq!(config.heads[0].alpha, 0.1);
    /// assert!(config.sources[0].balance);
    /// assert!(config.thresholds.is_some());
    /// config.validate()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_files(files: &[PathBuf], text_field: &str, heads: &[String]) -> TrainingConfig {
        let shipped = TrainingConfig::shipped();
        let generic = shipped.heads.iter().find(|h| h.name == "insult");
        let heads: Vec<HeadConfig> = heads
            .iter()
            .map(|name| {
                let base = shipped.heads.iter().find(|h| h.name == *name).or(generic);
                match base {
                    Some(base) => HeadConfig {
                        name: name.clone(),
                        labels: None,
                        positive: None,
                        ..base.clone()
                    },
                    None => HeadConfig {
                        name: name.clone(),
                        labels: None,
                        positive: None,
                        variant: Variant::Multinomial,
                        alpha: 1.0,
                        shrink: 0.0,
                        calibrate: CalibrationWeights::Natural,
                        calibration: None,
                        balance: false,
                        tune_bias: false,
                        refine: None,
                    },
                }
            })
            .collect();
        let sources = files
            .iter()
            .map(|f| SourceConfig {
                name: f
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "data".into()),
                path: f.clone(),
                format: None,
                text: text_field.to_string(),
                weight: 1.0,
                max_rows: None,
                holdout_only: false,
                balance: true,
                heads: heads
                    .iter()
                    .map(|h| {
                        (
                            h.name.clone(),
                            LabelRule {
                                field: h.name.clone(),
                                ..LabelRule::default()
                            },
                        )
                    })
                    .collect(),
            })
            .collect();
        TrainingConfig {
            pipeline: shipped.pipeline,
            heads,
            split: shipped.split,
            calibration: CalibrationConfig {
                sources: Vec::new(),
                ..shipped.calibration
            },
            policy: None,
            // The main rule's targets only: the shipped targets of other
            // heads are for the shipped policy's rules. A comment with no
            // evidence is allowed: on a balanced file it scores among the
            // comments the model is least sure of, where the threshold
            // chosen for recall can fall.
            thresholds: shipped.thresholds.map(|t| ThresholdTargets {
                heads: BTreeMap::new(),
                allow_no_evidence: true,
                ..t
            }),
            sources,
            file: None,
        }
    }

    /// The shipped configuration, `models/default.toml`, as compiled in:
    /// the source of [`TrainingConfig::from_files`]'s settings. Its
    /// sources' paths are as the file writes them (relative to `models/`).
    fn shipped() -> TrainingConfig {
        // A test parses it: it is part of the crate, not user input.
        toml::from_str(SHIPPED_CONFIG).expect("models/default.toml is a valid configuration")
    }

    /// Checks the configuration's values.
    ///
    /// # Errors
    ///
    /// [`SettingError`] naming the first invalid value.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        self.pipeline.features.validate()?;
        if self.heads.is_empty() {
            return Err(SettingError::NoHeads);
        }
        let mut names = HashSet::new();
        for h in &self.heads {
            if !names.insert(h.name.as_str()) {
                return Err(SettingError::head(&h.name, "is defined twice"));
            }
            if !(h.alpha.is_finite() && h.alpha > 0.0) {
                return Err(SettingError::range(
                    format!("head {:?}: alpha", h.name),
                    "a positive number",
                    h.alpha,
                ));
            }
            if let Some(r) = &h.refine {
                r.validate()
                    .map_err(|e| SettingError::head(&h.name, e.to_string()))?;
            }
            if h.tune_bias && self.calibration.folds < 2 {
                return Err(SettingError::head(
                    &h.name,
                    "tune_bias works on out-of-fold scores, so it needs \
                     calibration.folds of at least 2",
                ));
            }
        }
        if !(0.0..1.0).contains(&self.split.holdout) {
            return Err(SettingError::range(
                "split.holdout",
                "in [0, 1)",
                self.split.holdout,
            ));
        }
        if self.calibration.folds == 1 {
            return Err(SettingError::range(
                "calibration.folds",
                "0 (off) or at least 2",
                1,
            ));
        }
        if self.sources.is_empty() {
            return Err(SettingError::NoSources);
        }
        if let Some(t) = &self.thresholds {
            let each = std::iter::once((String::from("thresholds"), t.main())).chain(
                t.heads
                    .iter()
                    .map(|(h, t)| (format!("thresholds.heads.{h}"), *t)),
            );
            for (at, targets) in each {
                for (name, v) in [
                    ("review_recall", targets.review_recall),
                    ("reject_precision", targets.reject_precision),
                ] {
                    if v.is_some_and(|v| !(v > 0.0 && v <= 1.0)) {
                        return Err(SettingError::range(
                            format!("{at}.{name}"),
                            "in (0, 1]",
                            v.unwrap_or(f64::NAN),
                        ));
                    }
                }
            }
            if let Some(h) = t.heads.keys().find(|h| !names.contains(h.as_str())) {
                return Err(SettingError::Mismatch(format!(
                    "thresholds.heads names {h:?}, which is not in [[heads]]"
                )));
            }
        }
        for name in &self.calibration.sources {
            if !self.sources.iter().any(|s| &s.name == name) {
                return Err(SettingError::UnknownSource {
                    name: name.clone(),
                    by: "calibration.sources".into(),
                });
            }
        }
        let mut sources = HashSet::new();
        for s in &self.sources {
            if !sources.insert(s.name.as_str()) {
                return Err(SettingError::Source {
                    name: s.name.clone(),
                    problem: "is defined twice".into(),
                });
            }
            if !(s.weight.is_finite() && s.weight > 0.0) {
                return Err(SettingError::range(
                    format!("source {:?}: weight", s.name),
                    "positive",
                    s.weight,
                ));
            }
            for (head, rule) in &s.heads {
                if rule.fractional && rule.has_test() {
                    return Err(SettingError::Source {
                        name: s.name.clone(),
                        problem: format!("head {head:?}: fractional takes no test"),
                    });
                }
                if !names.contains(head.as_str()) {
                    return Err(SettingError::Source {
                        name: s.name.clone(),
                        problem: format!("labels head {head:?}, which is not in [[heads]]"),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Norm;
    use crate::model::params::CalibrationMethod;

    #[test]
    fn the_shipped_configuration_parses_and_validates() {
        let shipped = TrainingConfig::shipped();
        shipped.validate().unwrap();
        assert!(shipped.heads.iter().any(|h| h.name == "insult"));
    }

    /// The simple path takes the shipped settings that do not depend on
    /// the corpora, head by head.
    #[test]
    fn files_take_the_shipped_settings() {
        let heads = ["incivility", "tone", "toxic"].map(String::from);
        let config = TrainingConfig::from_files(&[PathBuf::from("x.csv")], "body", &heads);
        config.validate().unwrap();
        let shipped = TrainingConfig::shipped();
        assert_eq!(
            format!("{:?}", config.pipeline),
            format!("{:?}", shipped.pipeline)
        );
        assert_eq!(config.pipeline.features.norm, Norm::L2);
        assert!(config.pipeline.features.negation);

        let [incivility, tone, toxic] = [0, 1, 2].map(|i| &config.heads[i]);
        assert_eq!(incivility.name, "incivility");
        assert_eq!((incivility.alpha, incivility.shrink), (0.1, 0.25));
        assert_eq!(incivility.calibration, Some(CalibrationMethod::Isotonic));
        assert!(incivility.refine.is_some());
        // The labels are the file's own.
        assert!(incivility.labels.is_none() && incivility.positive.is_none());
        assert_eq!(tone.variant, Variant::Complement);
        assert!(tone.tune_bias && tone.balance);
        // A head the shipped configuration does not have: a plain binary one.
        assert_eq!(toxic.name, "toxic");
        assert_eq!((toxic.alpha, toxic.shrink), (0.1, 0.0));
        assert_eq!(toxic.variant, Variant::Multinomial);
        assert!(toxic.refine.is_some() && !toxic.tune_bias);

        assert_eq!(config.calibration.folds, shipped.calibration.folds);
        assert!(config.calibration.sources.is_empty());
        let targets = config.thresholds.as_ref().unwrap();
        assert_eq!(targets.review_recall, Some(0.8));
        assert_eq!(targets.reject_precision, Some(0.95));
        assert!(config.policy.is_none());
        assert_eq!(config.split.holdout, 0.1);

        let source = &config.sources[0];
        assert_eq!((source.name.as_str(), source.text.as_str()), ("x", "body"));
        assert!(source.balance);
        assert_eq!(source.heads.len(), 3);
        assert_eq!(source.heads["toxic"].field, "toxic");
    }
}
