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
    /// A hyperparameter or setting is outside its valid range.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
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
