//! The settings of the feature stage, stored in every model file: which
//! n-grams to hash, into how many buckets, and how repeats and comment
//! length count.

use crate::error::SettingError;
use serde::{Deserialize, Serialize};

/// How repeated features in one comment are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermFrequency {
    /// The sum of the feature's weights in the comment.
    Raw,
    /// The feature's weight once, however often it occurs.
    Binary,
    /// `ln(1 + raw)`: repeats count, with diminishing returns.
    Log,
}

/// How a comment's feature vector is scaled after `tf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Norm {
    /// No scaling.
    None,
    /// Unit Euclidean length (Rennie et al. 2003): a long comment counts
    /// as much as a short one, in training and in scoring.
    L2,
}

/// Feature extraction settings, stored in every model file.
///
/// | field | default | purpose | range |
/// |---|---|---|---|
/// | `buckets_log2` | 18 | size of the hashed feature space, `2^n` | 8..=24 |
/// | `word_ngrams` | 2 | longest word n-gram (1 = words only) | 1..=3 |
/// | `char_min` | 3 | shortest character n-gram; 0 disables them | 0..=8 |
/// | `char_max` | 5 | longest character n-gram | `char_min`..=8 |
/// | `char_weight` | 0.3 | weight of one character n-gram relative to a word | > 0 |
/// | `tf` | `binary` | how repeats inside one comment count | |
/// | `shape` | `true` | emit shape features (capitals, mentions, links) | |
/// | `norm` | `none` | scale each comment's vector to unit length (`l2`) | |
/// | `negation` | `false` | mark words in the scope of a negation ("don't *hate*") as features of their own | |
/// | `groups` | `false` | group words (nationalities, religions, ...) also count as one class; words near one get features of their own | |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// The hashed feature space has `2^buckets_log2` entries.
    pub buckets_log2: u8,
    /// Longest word n-gram.
    pub word_ngrams: u8,
    /// Shortest character n-gram (0 disables character n-grams).
    pub char_min: u8,
    /// Longest character n-gram.
    pub char_max: u8,
    /// Weight of each character n-gram occurrence.
    pub char_weight: f32,
    /// How repeated features count.
    pub tf: TermFrequency,
    /// Emit shape features.
    pub shape: bool,
    /// Length normalization.
    pub norm: Norm,
    /// Mark words after a negation ("not", "never", "don't", …), up to the
    /// next punctuation or six words, as negated: their word
    /// and character features are hashed apart from the plain word's, so
    /// "I don't hate them" does not carry the weight of "hate".
    pub negation: bool,
    /// Words that name a group of people (nationalities, peoples,
    /// religions, orientations: a list of ours, `features/groups.rs`) also
    /// count as one class, in unigrams and bigrams, and the words up to
    /// three tokens from a group word get features of their own: "vermin"
    /// near a group word is evidence whatever the group. Written to a
    /// model file only when on, so files without it read as off.
    #[serde(skip_serializing_if = "is_false")]
    pub groups: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            buckets_log2: 18,
            word_ngrams: 2,
            char_min: 3,
            char_max: 5,
            char_weight: 0.3,
            tf: TermFrequency::Binary,
            shape: true,
            norm: Norm::None,
            negation: false,
            groups: false,
        }
    }
}

impl FeatureConfig {
    /// Checks that every value is in its documented range.
    ///
    /// # Errors
    ///
    /// [`SettingError::OutOfRange`] naming the first value outside its
    /// range.
    pub fn validate(&self) -> Result<(), SettingError> {
        if !(8..=24).contains(&self.buckets_log2) {
            return Err(SettingError::range(
                "buckets_log2",
                "in 8..=24",
                self.buckets_log2,
            ));
        }
        if !(1..=3).contains(&self.word_ngrams) {
            return Err(SettingError::range(
                "word_ngrams",
                "in 1..=3",
                self.word_ngrams,
            ));
        }
        if self.char_min > 8 || (self.char_min > 0 && self.char_max < self.char_min) {
            return Err(SettingError::range(
                "character n-grams",
                "0 <= char_min <= char_max <= 8",
                format!("{}..={}", self.char_min, self.char_max),
            ));
        }
        if self.char_max > 8 {
            return Err(SettingError::range("char_max", "at most 8", self.char_max));
        }
        if !(self.char_weight.is_finite() && self.char_weight > 0.0) {
            return Err(SettingError::range(
                "char_weight",
                "a positive number",
                self.char_weight,
            ));
        }
        Ok(())
    }
}
