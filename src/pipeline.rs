//! The stages wired together: normalize -> tokenize -> features.
//!
//! A [`Pipeline`] is built from a [`PipelineConfig`], which every model file
//! carries, so a model is always scored with the normalization and features
//! it was trained with.

use crate::error::SettingError;
use crate::features::{FeatureConfig, Keys, SparseVec, Vectorizer};
use crate::normalize::{Normalized, Normalizer, NormalizerConfig, WordState};
use crate::tokenize::{Token, Tokenizer};
use serde::{Deserialize, Serialize};

/// The configuration of every stage before the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Normalization steps.
    pub normalizer: NormalizerConfig,
    /// Feature extraction settings.
    pub features: FeatureConfig,
}

/// Normalizer, tokenizer and vectorizer, configured once and shared.
///
/// # Examples
///
/// ```
/// use civility::{Pipeline, PipelineConfig};
///
/// let pipeline = Pipeline::new(PipelineConfig::default())?;
/// let features = pipeline.vectorize("Thanks for the thoughtful reporting.");
/// assert!(!features.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    config: PipelineConfig,
    normalizer: Normalizer,
    tokenizer: Tokenizer,
    vectorizer: Vectorizer,
}

/// Reusable buffers for one thread's scoring calls: once they have grown
/// to the size of the comments scored, scoring allocates only the verdict.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) normalized: Normalized,
    pub(crate) words: WordState,
    pub(crate) tokens: Vec<Token>,
    pub(crate) keys: Keys,
    pub(crate) features: SparseVec,
    /// Per weight-table column, the sum over the comment's features.
    pub(crate) sums: Vec<f64>,
}

/// A comment after the first two stages, kept for explanations.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The normalized text with its map to the original.
    pub normalized: Normalized,
    /// The tokens, with byte ranges in the normalized and original text.
    pub tokens: Vec<Token>,
}

impl Pipeline {
    /// Builds the stages.
    ///
    /// # Errors
    ///
    /// [`SettingError::OutOfRange`] naming a feature setting outside its
    /// range.
    pub fn new(config: PipelineConfig) -> Result<Self, SettingError> {
        Ok(Pipeline {
            normalizer: Normalizer::new(config.normalizer.clone()),
            tokenizer: Tokenizer,
            vectorizer: Vectorizer::new(config.features.clone())?,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// The feature stage.
    pub fn vectorizer(&self) -> &Vectorizer {
        &self.vectorizer
    }

    /// Normalizes and tokenizes a comment.
    pub fn analyze(&self, text: &str) -> Analysis {
        let normalized = self.normalizer.normalize(text);
        let tokens = self.tokenizer.tokenize(&normalized);
        Analysis { normalized, tokens }
    }

    /// Runs all three stages, leaving the features in `scratch.features`;
    /// `on_index` sees each feature index as soon as it is known
    /// ([`Vectorizer::transform_into`]).
    pub(crate) fn vectorize_into(
        &self,
        text: &str,
        scratch: &mut Scratch,
        on_index: impl FnMut(u32),
    ) {
        self.normalizer
            .normalize_into(text, &mut scratch.normalized, &mut scratch.words);
        let normalized = &scratch.normalized;
        self.tokenizer
            .tokenize_into(normalized, &mut scratch.tokens);
        self.vectorizer.transform_into(
            normalized,
            text,
            &scratch.tokens,
            &mut scratch.keys,
            &mut scratch.features,
            on_index,
        );
    }

    /// Runs all three stages reusing `scratch`'s buffers, as scoring
    /// does: once they have grown, this allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::{Pipeline, PipelineConfig, Scratch};
    ///
    /// let pipeline = Pipeline::new(PipelineConfig::default())?;
    /// let mut scratch = Scratch::default();
    /// for text in ["Thanks for this.", "What an idiot."] {
    ///     let features = pipeline.vectorize_with(text, &mut scratch);
    ///     assert!(!features.is_empty());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn vectorize_with<'s>(&self, text: &str, scratch: &'s mut Scratch) -> &'s SparseVec {
        self.vectorize_into(text, scratch, |_| {});
        &scratch.features
    }

    /// Runs all three stages and returns the sparse feature vector.
    pub fn vectorize(&self, text: &str) -> SparseVec {
        let mut scratch = Scratch::default();
        self.vectorize_into(text, &mut scratch, |_| {});
        scratch.features
    }
}
