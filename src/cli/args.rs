//! Flags shared by several subcommands: which model, which data.

use super::BadInput;
use anyhow::{Context, Result};
use civility::data::{Dataset, LoadOptions};
use civility::{Moderator, TrainingConfig};
use std::path::PathBuf;

/// The model to use and overrides of its thresholds.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model file (default: the built-in model).
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Review at or above this P(uncivil) (default: the model's).
    #[arg(long, value_name = "P")]
    review: Option<f64>,
    /// Reject at or above this P(uncivil) (default: the model's).
    #[arg(long, value_name = "P")]
    reject: Option<f64>,
}

impl ModelArgs {
    /// Loads the model and applies the threshold overrides.
    pub fn load(&self) -> Result<Moderator> {
        self.load_from(self.model.as_ref())
    }

    /// Loads the model at `path` (the built-in one for `None`) with the
    /// same threshold overrides, e.g. a second model to compare.
    pub fn load_from(&self, path: Option<&PathBuf>) -> Result<Moderator> {
        let mut moderator = load_model(path)?;
        moderator
            .set_thresholds(self.review, self.reject)
            .map_err(|e| BadInput(e.to_string()))?;
        Ok(moderator)
    }
}

/// Loads the model named on the command line, or the built-in one.
pub fn load_model(path: Option<&PathBuf>) -> Result<Moderator> {
    match path {
        Some(p) => {
            Moderator::from_path(p).with_context(|| format!("cannot load model {}", p.display()))
        }
        None => Moderator::embedded().context("cannot load the built-in model"),
    }
}

/// Labelled data: files with fields named after the heads, or a
/// configuration that maps corpora onto heads.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data files (JSONL or CSV), when no --config is given.
    // Required through each subcommand's `data` group: eval also takes
    // --judgements instead.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Configuration (TOML): pipeline, heads, sources and their label rules.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "head", "text"])]
    pub config: Option<PathBuf>,
    /// With FILEs: a head, labelled by the field of the same name
    /// (repeatable). eval without it: the model's heads that the files label.
    #[arg(long, value_name = "NAME", requires = "files")]
    pub head: Vec<String>,
    /// With FILEs: the field holding the comment text.
    #[arg(long, value_name = "FIELD", default_value = "text")]
    pub text: String,
    /// Leave out a source of the configuration (repeatable).
    #[arg(long, value_name = "SOURCE")]
    exclude: Vec<String>,
    /// Use only these sources of the configuration (repeatable).
    #[arg(long, value_name = "SOURCE")]
    only: Vec<String>,
    /// Skip malformed rows (counted in the report) instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// With FILEs: the fraction of comments held out of training, chosen by
    /// a hash of each comment's text (0: train on every comment). eval
    /// --split holdout needs the value train was given.
    #[arg(
        long,
        value_name = "FRACTION",
        default_value_t = DEFAULT_HOLDOUT,
        value_parser = holdout_fraction,
        conflicts_with = "config"
    )]
    pub holdout: f64,
}

/// The held-out fraction of the simple path, that of the shipped
/// configuration (`TrainingConfig::from_files`).
pub const DEFAULT_HOLDOUT: f64 = 0.1;

fn holdout_fraction(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..1.0).contains(&f) => Ok(f),
        _ => Err(format!(
            "expected a fraction from 0 (hold out nothing) to below 1, e.g. 0.1, but found {s:?}"
        )),
    }
}

impl DataArgs {
    /// True if the heads are not named (no `--config`, no `--head`): a
    /// model's own, as far as the files label them.
    pub fn heads_by_default(&self) -> bool {
        self.config.is_none() && self.head.is_empty()
    }

    /// Reads the configuration and the data. Without `--config` and
    /// `--head`, the heads are those of `default_heads` that the files
    /// label.
    pub fn load(&self, default_heads: &[String]) -> Result<(TrainingConfig, Dataset)> {
        let config = match &self.config {
            Some(path) => TrainingConfig::from_path(path)?,
            None => {
                let heads = if self.head.is_empty() {
                    default_heads
                } else {
                    &self.head
                };
                if heads.is_empty() {
                    return Err(BadInput(
                        "name the heads with --head (e.g. --head incivility), or give --config"
                            .into(),
                    )
                    .into());
                }
                let mut config = TrainingConfig::from_files(&self.files, &self.text, heads);
                config.split.holdout = self.holdout;
                config.validate().map_err(|e| BadInput(e.to_string()))?;
                config
            }
        };
        let options = LoadOptions {
            skip_invalid: self.skip_invalid,
            exclude: self.exclude.clone(),
            only: self.only.clone(),
            drop_unlabelled_heads: self.heads_by_default(),
        };
        let data = Dataset::load(&config, &options)?;
        Ok((config, data))
    }
}
