//! The normalizer's settings: which steps run. A model file stores them in
//! its header, so scoring always uses the steps the model was trained
//! with; the order and attributes of the fields are part of that format.

use serde::{Deserialize, Serialize};

/// Which normalization steps run. Stored in every model file, so scoring
/// always uses the steps the model was trained with.
///
/// | field | default | purpose |
/// |---|---|---|
/// | `nfkc` | `true` | Unicode compatibility composition: fullwidth and mathematical letters become plain letters |
/// | `lowercase` | `true` | full Unicode case folding to lower case |
/// | `strip_diacritics` | `true` | drop accents from Latin letters ("stüpid" → "stupid") |
/// | `confusables` | `true` | Cyrillic/Greek look-alikes inside Latin words become Latin |
/// | `leetspeak` | `true` | digits and symbols inside words become letters ("1d10t") |
/// | `separators` | `true` | "i.d.i.o.t" and "s t u p i d" become one word |
/// | `masks` | `true` | masked letters restored from a small lexicon ("f*ck") |
/// | `max_repeat` | `2` | runs of the same letter longer than this collapse to one; `0` disables |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizerConfig {
    /// Apply Unicode NFKC to every character.
    pub nfkc: bool,
    /// Fold case to lower case.
    pub lowercase: bool,
    /// Remove diacritics from Latin letters.
    pub strip_diacritics: bool,
    /// Fold Cyrillic and Greek look-alike letters inside Latin words.
    pub confusables: bool,
    /// Fold leetspeak digits and symbols inside words.
    pub leetspeak: bool,
    /// Join letters separated by dots, dashes or single spaces.
    pub separators: bool,
    /// Restore masked letters of known offensive words.
    pub masks: bool,
    /// Runs of one letter longer than this collapse to a single letter.
    pub max_repeat: usize,
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        NormalizerConfig {
            nfkc: true,
            lowercase: true,
            strip_diacritics: true,
            confusables: true,
            leetspeak: true,
            separators: true,
            masks: true,
            max_repeat: 2,
        }
    }
}
