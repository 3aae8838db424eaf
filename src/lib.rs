//! # civility
//!
//! Scores reader comments for incivility and tone, so a comment backend can
//! publish, hold for review or reject them. Self-hosted, fast and
//! explainable: a verdict is a sum of per-word weights you can inspect.
//!
//! A comment flows through five stages, one module each:
//!
//! 1. **normalize** ([`Normalizer`]): Unicode NFKC, case folding, invisible
//!    characters removed, obfuscations folded ("1d10t" → "idiot"), with a
//!    map back to the original bytes;
//! 2. **tokenize** ([`Tokenizer`]): UAX #29 words, plus URLs, @mentions,
//!    numbers and emoji, each with its byte range in the original;
//! 3. **features** ([`Vectorizer`]): word n-grams and character n-grams
//!    hashed into a sparse vector;
//! 4. **model** ([`Model`], [`Moderator`]): naive Bayes heads — `incivility`,
//!    the attributes `insult`, `profanity`, `identity_attack`, `threat`, and
//!    `tone` — with calibrated probabilities;
//! 5. **policy** ([`Policy`]): probabilities to a [`Decision`]: allow,
//!    review or reject.
//!
//! # Linking it into a comment backend
//!
//! Load the model once at start-up and share it; scoring takes `&self` and
//! is safe from any number of threads.
//!
//! ```
//! use civility::{Decision, Moderator};
//! use std::sync::Arc;
//!
//! // Once, at start-up: the embedded default model, or Moderator::from_path.
//! let moderator = Arc::new(Moderator::embedded()?);
//!
//! // Per request, from any thread.
//! let handles: Vec<_> = ["Great reporting, thank you!", "Shut up, you moron."]
//!     .into_iter()
//!     .map(|comment| {
//!         let moderator = Arc::clone(&moderator);
//!         std::thread::spawn(move || moderator.score(comment).decision())
//!     })
//!     .collect();
//! let decisions: Vec<Decision> = handles.into_iter().map(|h| h.join().unwrap()).collect();
//! assert_eq!(decisions[0], Decision::Allow);
//! assert_ne!(decisions[1], Decision::Allow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Long comments
//!
//! A [`Moderator`] scores at most the first 64 KiB of a comment, so no input
//! costs more than that; the verdict of a longer one says it was
//! [truncated](Verdict::truncated). A [`SizeLimit`] sets the length and,
//! with [`Oversize`], whether such a comment is decided on its beginning,
//! held for review or rejected. Without a limit, scoring time grows
//! linearly with the length of the comment.
//!
//! ```
//! use civility::{Decision, Moderator, Oversize, SizeLimit};
//!
//! let mut moderator = Moderator::embedded()?;
//! moderator.set_size_limit(Some(SizeLimit::new(2000, Oversize::Reject)));
//! let verdict = moderator.score(&"spam ".repeat(1000));
//! assert!(verdict.truncated());
//! assert_eq!(verdict.decision(), Decision::Reject);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `train` | on | training and evaluation: training configurations (TOML), labelled comments (JSON Lines, CSV), `train`, `evaluate`, `data` |
//! | `cli` | on | the `civility` command-line tool (implies `train`) |
//! | `linfa` | off | linfa's `Fit`/`Predict` for naive Bayes on dense `ndarray` data |
//!
//! A backend that only scores comments depends on the crate with
//! `default-features = false` and compiles none of them. Training your own
//! model (feature `train`): see the `train` module and the README.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "train")]
mod config;
mod error;
mod features;
mod hash;
pub mod metrics;
mod model;
mod normalize;
mod pipeline;
mod policy;
mod tokenize;

#[cfg(test)]
mod testing;

#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub mod data;
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub mod evaluate;
pub mod io;
pub mod parallel;
pub mod perturb;

#[cfg(feature = "train")]
pub use config::{Format, SourceConfig, SplitConfig, Targets, ThresholdTargets, TrainingConfig};
pub use error::{Error, Result, SettingError};
pub use features::{FeatureConfig, Norm, SparseRef, SparseVec, TermFrequency, Vectorizer};
pub use model::calibration::{Calibration, Temperature};
#[cfg(feature = "linfa")]
pub use model::linfa::NaiveBayesModel;
pub use model::naive_bayes::{Head, NaiveBayesParams, NaiveBayesValidParams, Variant};
#[cfg(feature = "train")]
pub use model::params::{CalibrationConfig, CalibrationMethod, CalibrationWeights, HeadConfig};
#[cfg(feature = "train")]
pub use model::refine::Refine;
#[cfg(feature = "train")]
pub use model::train;
pub use model::{
    Evidence, Explanation, HeadScore, HeadSpec, Model, Moderator, Verdict, FORMAT_VERSION,
    OLDEST_SUPPORTED_VERSION,
};
pub use normalize::{Normalized, Normalizer, NormalizerConfig};
pub use pipeline::{Analysis, Pipeline, PipelineConfig, Scratch};
pub use policy::{Decision, Oversize, Policy, Rule, SizeLimit};
pub use tokenize::{Token, TokenKind, Tokenizer};

// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
