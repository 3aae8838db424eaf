//! The one error type of the library.
//!
//! Comment text never causes an error: any string gets a verdict. Errors
//! come from loading or saving model files, from reading training data and
//! from invalid settings.

use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading a stream failed.
    #[error("read failed: {0}")]
    Read(#[from] std::io::Error),
    /// Writing a stream failed.
    #[error("write failed: {0}")]
    Write(std::io::Error),
    /// The bytes are not a civility model file at all.
    #[error("not a civility model file (expected the magic bytes {expected:?}, found {found:?})")]
    NotAModel {
        /// The magic bytes a model starts with.
        expected: String,
        /// What the file starts with.
        found: String,
    },
    /// The model file was written by a format version this build cannot read.
    #[error(
        "model format version {found} is not supported (this build reads versions {oldest} to {newest})"
    )]
    Incompatible {
        /// The file's format version.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The newest version this build reads.
        newest: u32,
    },
    /// The model file is truncated, corrupt or inconsistent.
    #[error("damaged model file: {0}")]
    Damaged(String),
    /// A hyperparameter or setting is outside its valid range, or does not
    /// fit with the others.
    #[error("invalid setting: {0}")]
    InvalidSetting(#[from] SettingError),
    /// The training configuration file is invalid.
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A row of training or evaluation data is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Data {
        /// The data file.
        path: PathBuf,
        /// The 1-based line number (the record number for CSV).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Training or evaluation found too few labelled comments.
    #[error("not enough labelled data: {0}")]
    NoData(String),
    /// An error reported through linfa's traits.
    #[cfg(feature = "linfa")]
    #[cfg_attr(docsrs, doc(cfg(feature = "linfa")))]
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// What is wrong with a setting: the kinds of [`Error::InvalidSetting`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// A value outside its valid range.
    #[error("{name} must be {expected}, but is {found}")]
    OutOfRange {
        /// The setting.
        name: String,
        /// Its valid range, in words.
        expected: String,
        /// The value given.
        found: String,
    },
    /// A policy rule whose reject threshold is below its review threshold.
    #[error("the reject threshold ({reject}) of {head} is below its review threshold ({review})")]
    ThresholdOrder {
        /// The rule's head.
        head: String,
        /// Its review threshold.
        review: f64,
        /// Its reject threshold.
        reject: f64,
    },
    /// A policy without rules.
    #[error("a policy needs at least one rule")]
    NoRules,
    /// A model or configuration without heads.
    #[error("a model needs at least one head")]
    NoHeads,
    /// A configuration without sources of labelled comments.
    #[error("at least one source is required")]
    NoSources,
    /// A setting names a source the configuration does not have.
    #[error("{by} names {name:?}, which is not a source")]
    UnknownSource {
        /// The source named.
        name: String,
        /// The setting that names it.
        by: String,
    },
    /// A source's settings that do not fit (defined twice, a label rule
    /// for a head that does not exist, ...).
    #[error("source {name:?}: {problem}")]
    Source {
        /// The source.
        name: String,
        /// What does not fit.
        problem: String,
    },
    /// A head with fewer than two labels.
    #[error("head {head:?} needs at least two labels, but has {found}")]
    TooFewLabels {
        /// The head.
        head: String,
        /// Its number of labels.
        found: usize,
    },
    /// A head that lists a label twice.
    #[error("head {head:?} lists label {label:?} twice")]
    DuplicateLabel {
        /// The head.
        head: String,
        /// The label.
        label: String,
    },
    /// A policy or setting names a head the model does not have.
    #[error("the policy names a missing head {head:?}")]
    UnknownHead {
        /// The head named.
        head: String,
    },
    /// A policy or setting names a label its head does not have.
    #[error("the policy names label {label:?}, which head {head:?} does not have")]
    UnknownLabel {
        /// The head.
        head: String,
        /// The label named.
        label: String,
    },
    /// A setting of one head that does not fit the head (a positive label
    /// on a multi-class head, class biases of the wrong length, ...).
    #[error("head {head:?}: {problem}")]
    Head {
        /// The head.
        head: String,
        /// What does not fit.
        problem: String,
    },
    /// A calibration map that cannot be used.
    #[error("{0}")]
    Calibration(String),
    /// Parts that must agree do not: the weight table and the heads or the
    /// pipeline, the data and the configuration's heads, a new policy and
    /// the model's main rule.
    #[error("{0}")]
    Mismatch(String),
    /// A model with an infinite or NaN weight.
    #[error("the model has a non-finite weight")]
    NonFinite,
}

impl SettingError {
    /// A value outside its range: `name` must be `expected`, but is `found`.
    pub(crate) fn range(
        name: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> SettingError {
        SettingError::OutOfRange {
            name: name.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// A setting of head `head` that does not fit it.
    pub(crate) fn head(head: impl Into<String>, problem: impl Into<String>) -> SettingError {
        SettingError::Head {
            head: head.into(),
            problem: problem.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
