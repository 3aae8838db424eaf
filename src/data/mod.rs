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
//!
//! [`Dataset::load`] does the work: `read` turns each source file into
//! rows, the source's [`LabelRule`]s (`labels`) give each row its labels,
//! `split` places it, and `load` drops duplicates, applies `max_rows` and
//! gives every label its index.

mod labels;
mod load;
mod read;
mod split;

pub use labels::LabelRule;
pub use load::{Dataset, Example, HeadLabels, LoadOptions, SourceReport};
pub use split::{text_key, Part};

#[doc(no_inline)]
pub use crate::config::{Format, SourceConfig, SplitConfig, ThresholdTargets, TrainingConfig};
#[doc(no_inline)]
pub use crate::model::params::{
    CalibrationConfig, CalibrationMethod, CalibrationWeights, HeadConfig,
};
