//! Stage 3 of the pipeline: turn tokens into a sparse feature vector.
//!
//! Features are word unigrams and bigrams, character n-grams inside words
//! (with word-boundary markers, so "idiot" yields `<id`, `idi`, …, `ot>`), and
//! a few shape features (a word in capitals, a reply to a user). Each feature
//! is hashed straight into a fixed space of `2^buckets_log2` indices.
//!
//! Why hashing rather than a pruned vocabulary: hashing needs no string
//! table at scoring time (a feature is a few multiplications, with no
//! allocation and no map lookup per token), the model can be updated with
//! new text whose words it has never seen, and the model file size is fixed
//! by one parameter. The cost is collisions: measured across corpora, 2^18
//! buckets rank comments almost as well as 2^20 (mean cross-corpus ROC AUC
//! 0.721 against 0.727) at a quarter of the model size (`models/README.md`).

use crate::error::SettingError;
use crate::normalize::Normalized;
use crate::tokenize::{Token, TokenKind};
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
}

/// The most words a negation reaches.
const NEGATION_SCOPE: u8 = 6;

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

/// A sparse vector: sorted, distinct indices with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Feature indices, strictly increasing.
    pub indices: Vec<u32>,
    /// One value per index.
    pub values: Vec<f32>,
}

impl SparseVec {
    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True if the vector has no entries.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Iterates over `(index, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.view().iter()
    }

    /// The vector as a borrowed view.
    pub fn view(&self) -> SparseRef<'_> {
        SparseRef {
            indices: &self.indices,
            values: &self.values,
        }
    }
}

/// A borrowed sparse vector: a [`SparseVec`], or one row of many stored
/// together (as training stores a corpus).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SparseRef<'a> {
    /// Feature indices, strictly increasing.
    pub indices: &'a [u32],
    /// One value per index.
    pub values: &'a [f32],
}

impl<'a> SparseRef<'a> {
    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// True if the vector has no entries.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Iterates over `(index, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + 'a {
        self.indices
            .iter()
            .copied()
            .zip(self.values.iter().copied())
    }
}

impl<'a> From<&'a SparseVec> for SparseRef<'a> {
    fn from(x: &'a SparseVec) -> Self {
        x.view()
    }
}

/// Many sparse vectors, row after row, in blocks of [`SparseRows::BLOCK`]
/// rows that each keep all their indices in one buffer and all their
/// values in another: two allocations a block instead of two a row, and
/// blocks filled on several threads join without a copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseRows {
    blocks: Vec<RowBlock>,
    len: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct RowBlock {
    /// Where each row ends in `indices` and `values`.
    ends: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl SparseRows {
    /// Rows per block.
    pub(crate) const BLOCK: usize = 2048;

    /// Appends a row.
    pub(crate) fn push(&mut self, x: SparseRef<'_>) {
        if !matches!(self.blocks.last(), Some(b) if b.ends.len() < Self::BLOCK) {
            self.blocks.push(RowBlock::default());
        }
        let block = self.blocks.last_mut().expect("a block was just made");
        block.indices.extend_from_slice(x.indices);
        block.values.extend_from_slice(x.values);
        block.ends.push(block.indices.len());
        self.len += 1;
    }

    /// Appends `other`'s rows. Without a copy when every block of `self`
    /// is full, as when each part of a corpus filled whole blocks.
    pub(crate) fn append(&mut self, other: SparseRows) {
        if self.len % Self::BLOCK == 0 {
            self.len += other.len;
            self.blocks.extend(other.blocks);
        } else {
            other.iter().for_each(|x| self.push(x));
        }
    }

    /// Row `i`.
    ///
    /// # Panics
    ///
    /// If there is no row `i`.
    pub(crate) fn row(&self, i: usize) -> SparseRef<'_> {
        let block = &self.blocks[i / Self::BLOCK];
        let r = i % Self::BLOCK;
        let start = if r == 0 { 0 } else { block.ends[r - 1] };
        let end = block.ends[r];
        SparseRef {
            indices: &block.indices[start..end],
            values: &block.values[start..end],
        }
    }

    /// The rows in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = SparseRef<'_>> + '_ {
        (0..self.len).map(|i| self.row(i))
    }
}

/// The feature extraction stage.
///
/// # Examples
///
/// ```
/// use civility::{FeatureConfig, Normalizer, Tokenizer, Vectorizer};
///
/// let text = "What an idiot";
/// let normalized = Normalizer::default().normalize(text);
/// let tokens = Tokenizer.tokenize(&normalized);
/// let vectorizer = Vectorizer::new(FeatureConfig::default())?;
/// let features = vectorizer.transform(&normalized, text, &tokens);
/// assert!(features.len() > 10);
/// assert!(features.indices.windows(2).all(|w| w[0] < w[1]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Vectorizer {
    config: FeatureConfig,
    shift: u32,
}

const SEED_WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_CHAR: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SEED_BIGRAM: u64 = 0x1656_67b1_9e37_79f9;
const SEED_TRIGRAM: u64 = 0x27d4_eb2f_1656_67c5;
const SEED_NEGATED: u64 = 0x85eb_ca77_c2b2_ae63;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const MARK_START: u64 = 0x02;
const MARK_END: u64 = 0x03;

impl Vectorizer {
    /// A vectorizer with the given settings.
    ///
    /// # Errors
    ///
    /// [`SettingError::OutOfRange`] naming the first setting outside its
    /// range.
    pub fn new(config: FeatureConfig) -> Result<Self, SettingError> {
        config.validate()?;
        let shift = 64 - u32::from(config.buckets_log2);
        Ok(Vectorizer { config, shift })
    }

    /// The settings.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The dimension of the feature space.
    pub fn n_features(&self) -> usize {
        1 << self.config.buckets_log2
    }

    fn bucket(&self, h: u64) -> u32 {
        (fmix64(h) >> self.shift) as u32
    }

    /// Calls `f(token_index, feature_index, weight)` for every feature
    /// occurrence, in token order, without allocating. `original` is the
    /// comment the tokens' spans point into.
    pub fn visit(
        &self,
        normalized: &Normalized,
        original: &str,
        tokens: &[Token],
        mut f: impl FnMut(usize, u32, f32),
    ) {
        let text = normalized.as_str();
        let cw = self.config.char_weight;
        let mut prev: [Option<u64>; 2] = [None, None];
        // Words left in the current negation's scope, and where the previous
        // token ended (punctuation in between closes the scope).
        let mut negation_left = 0u8;
        let mut prev_end = 0;
        for (ti, token) in tokens.iter().enumerate() {
            let norm = text.get(token.norm.clone()).unwrap_or("");
            if self.config.negation && negation_left > 0 {
                let gap = text.get(prev_end..token.norm.start).unwrap_or("");
                if token.kind == TokenKind::Punct || gap.contains(['.', ',', ';', ':', '!', '?']) {
                    negation_left = 0;
                }
            }
            prev_end = token.norm.end;
            let negated = negation_left > 0 && token.kind == TokenKind::Word;
            let h = match token.kind {
                TokenKind::Word | TokenKind::Emoji | TokenKind::Punct => hash_str(SEED_WORD, norm),
                TokenKind::Number => hash_str(SEED_WORD, "\u{1}number"),
                TokenKind::Url => hash_str(SEED_WORD, "\u{1}url"),
                TokenKind::Mention => hash_str(SEED_WORD, "\u{1}mention"),
            };
            let unigram = if negated { h ^ SEED_NEGATED } else { h };
            f(ti, self.bucket(unigram), 1.0);
            if token.kind == TokenKind::Punct {
                continue;
            }
            if self.config.word_ngrams >= 2 {
                if let Some(p) = prev[1] {
                    f(ti, self.bucket(SEED_BIGRAM ^ p.rotate_left(21) ^ h), 1.0);
                    if self.config.word_ngrams >= 3 {
                        if let Some(pp) = prev[0] {
                            let g = SEED_TRIGRAM ^ pp.rotate_left(42) ^ p.rotate_left(21) ^ h;
                            f(ti, self.bucket(g), 1.0);
                        }
                    }
                }
                prev = [prev[1], Some(h)];
            }
            if token.kind == TokenKind::Word {
                if self.config.char_min > 0 {
                    let seed = if negated {
                        SEED_CHAR ^ SEED_NEGATED
                    } else {
                        SEED_CHAR
                    };
                    self.visit_char_ngrams(norm, seed, |b| f(ti, b, cw));
                }
                if self.config.shape && is_shouted(original.get(token.span.clone())) {
                    f(ti, self.bucket(hash_str(SEED_WORD, "\u{1}caps")), 1.0);
                }
                if self.config.negation {
                    if is_negation(norm) {
                        negation_left = NEGATION_SCOPE;
                    } else {
                        negation_left = negation_left.saturating_sub(1);
                    }
                }
            }
        }
    }

    /// Character n-grams of one word with boundary markers. Each start
    /// position hashes at most `char_max` characters: linear in the word.
    fn visit_char_ngrams(&self, word: &str, seed: u64, mut f: impl FnMut(u32)) {
        let (min, max) = (
            usize::from(self.config.char_min),
            usize::from(self.config.char_max),
        );
        let starts = std::iter::once(None).chain(word.char_indices().map(|(i, _)| Some(i)));
        for start in starts {
            let mut h = seed;
            let mut n = 0;
            let rest = match start {
                None => {
                    h = fnv_step(h, MARK_START);
                    n = 1;
                    word
                }
                Some(i) => &word[i..],
            };
            let mut chars = rest.chars();
            while n < max {
                match chars.next() {
                    Some(c) => {
                        h = fnv_step(h, u64::from(c));
                        n += 1;
                        if n >= min {
                            f(self.bucket(h));
                        }
                    }
                    None => {
                        h = fnv_step(h, MARK_END);
                        n += 1;
                        if n >= min {
                            f(self.bucket(h));
                        }
                        break;
                    }
                }
            }
        }
    }

    /// Builds the merged sparse vector into `out`, reusing its buffers and
    /// the `keys` scratch buffers. `on_index` is called with each index of
    /// a comment of ordinary length as soon as the indices are known, before
    /// the values are scaled: scoring uses it to have the weight rows
    /// fetched while this stage finishes.
    pub(crate) fn transform_into(
        &self,
        normalized: &Normalized,
        original: &str,
        tokens: &[Token],
        keys: &mut Keys,
        out: &mut SparseVec,
        on_index: impl FnMut(u32),
    ) {
        // Only two weights occur: a character n-gram's and a word's (1).
        // Each occurrence is one u32, its bucket and which weight it has,
        // so the occurrences sort as plain integers.
        let cw = self.config.char_weight;
        keys.keys.clear();
        self.visit(normalized, original, tokens, |_, b, w| {
            debug_assert!(w == cw || w == 1.0);
            keys.keys.push(b << 1 | u32::from(w != cw));
        });
        out.indices.clear();
        out.values.clear();
        let tf = self.config.tf;
        let weights = [cw, 1.0];
        if tf == TermFrequency::Binary && keys.keys.len() >= self.n_features() / 4 {
            // A very long comment: merging in a table of every bucket
            // (twice as fast as sorting here) gives the same vector (a
            // maximum does not depend on order; every weight is positive).
            // The table stays in `keys`, all zeros between calls.
            let table = &mut keys.table;
            if table.len() != self.n_features() {
                table.clear();
                table.resize(self.n_features(), 0.0);
            }
            for &k in keys.keys.iter() {
                let slot = &mut table[(k >> 1) as usize];
                *slot = slot.max(weights[(k & 1) as usize]);
            }
            for (b, v) in table.iter_mut().enumerate() {
                if *v > 0.0 {
                    out.indices.push(b as u32);
                    out.values.push(std::mem::take(v));
                }
            }
        } else {
            radix_sort(
                &mut keys.keys,
                &mut keys.spare,
                u32::from(self.config.buckets_log2) + 1,
            );
            merge_sorted(&keys.keys, weights, tf, out);
        }
        out.indices.iter().copied().for_each(on_index);
        if self.config.norm == Norm::L2 {
            let len = out.values.iter().map(|v| v * v).sum::<f32>().sqrt();
            if len > 0.0 {
                out.values.iter_mut().for_each(|v| *v /= len);
            }
        }
    }

    /// Builds the merged sparse vector.
    pub fn transform(
        &self,
        normalized: &Normalized,
        original: &str,
        tokens: &[Token],
    ) -> SparseVec {
        let mut out = SparseVec::default();
        self.transform_into(
            normalized,
            original,
            tokens,
            &mut Keys::default(),
            &mut out,
            |_| {},
        );
        out
    }
}

/// Scratch buffers of [`Vectorizer::transform_into`]: one comment's
/// feature occurrences, each `bucket << 1 | (weight is a word's)`.
#[derive(Debug, Default)]
pub(crate) struct Keys {
    keys: Vec<u32>,
    spare: Vec<u32>,
    /// One slot per bucket, for comments with very many occurrences.
    table: Vec<f32>,
}

/// Sorts `keys`, each below `2^bits` (at most 32), with a
/// least-significant-digit radix sort of up to four passes of at most 8
/// bits, `spare` being the second buffer. A comment's few hundred feature
/// occurrences sort in about a third of the instructions a comparison
/// sort takes, and a long comment's in linear time.
fn radix_sort(keys: &mut Vec<u32>, spare: &mut Vec<u32>, bits: u32) {
    if keys.len() < 32 {
        keys.sort_unstable();
        return;
    }
    let passes = bits.div_ceil(8).max(1);
    let width = bits.div_ceil(passes);
    let mask = (1u32 << width) - 1;
    let mut counts = [[0u32; 256]; 4];
    for &k in keys.iter() {
        for (p, count) in counts.iter_mut().take(passes as usize).enumerate() {
            count[((k >> (p as u32 * width)) & mask) as usize] += 1;
        }
    }
    spare.clear();
    spare.resize(keys.len(), 0);
    for (p, count) in counts.iter_mut().take(passes as usize).enumerate() {
        let shift = p as u32 * width;
        // Every key has the same digit here: this pass would move nothing.
        if count[((keys[0] >> shift) & mask) as usize] as usize == keys.len() {
            continue;
        }
        let mut at = 0;
        for c in count[..=mask as usize].iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        for &k in keys.iter() {
            let slot = &mut count[((k >> shift) & mask) as usize];
            spare[*slot as usize] = k;
            *slot += 1;
        }
        std::mem::swap(keys, spare);
    }
}

/// Merges sorted keys (`bucket << 1 | weight index`) into `out` (empty).
/// Without a branch on the data: a comment's repeated features come in
/// no order a processor could predict.
fn merge_sorted(keys: &[u32], weights: [f32; 2], tf: TermFrequency, out: &mut SparseVec) {
    let (indices, values) = (&mut out.indices, &mut out.values);
    indices.resize(keys.len(), 0);
    values.resize(keys.len(), 0.0);
    // `n` distinct buckets so far; no bucket is u32::MAX.
    let (mut n, mut last) = (0, u32::MAX);
    for &k in keys {
        let (b, w) = (k >> 1, weights[(k & 1) as usize]);
        let new = b != last;
        n += usize::from(new);
        let (i, v) = (&mut indices[n - 1], &mut values[n - 1]);
        *i = b;
        *v = match (new, tf) {
            (true, _) => w,
            (false, TermFrequency::Binary) => v.max(w),
            (false, TermFrequency::Raw | TermFrequency::Log) => *v + w,
        };
        last = b;
    }
    indices.truncate(n);
    values.truncate(n);
    if tf == TermFrequency::Log {
        values.iter_mut().for_each(|v| *v = v.ln_1p());
    }
}

/// A word that negates what follows: "not", "never", "nobody", "don't", …
fn is_negation(word: &str) -> bool {
    matches!(
        word,
        "not"
            | "no"
            | "never"
            | "nobody"
            | "nothing"
            | "none"
            | "neither"
            | "nor"
            | "without"
            | "cannot"
            | "dont"
            | "doesnt"
            | "didnt"
            | "isnt"
            | "arent"
            | "wasnt"
            | "werent"
            | "wont"
            | "cant"
            | "shouldnt"
            | "wouldnt"
            | "couldnt"
            | "aint"
            | "hardly"
    ) || word.ends_with("n't")
        || word.ends_with("n\u{2019}t")
}

/// A word of three or more letters written all in capitals.
fn is_shouted(original: Option<&str>) -> bool {
    let Some(s) = original else { return false };
    let mut letters = 0;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            letters += 1;
        }
    }
    letters >= 3
}

fn fnv_step(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(FNV_PRIME)
}

fn hash_str(seed: u64, s: &str) -> u64 {
    s.bytes().fold(seed, |h, b| fnv_step(h, u64::from(b)))
}

/// MurmurHash3's 64-bit finalizer: spreads FNV's weak low bits over the
/// whole word before the top bits pick the bucket.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;
    use crate::tokenize::Tokenizer;

    fn features(config: FeatureConfig, text: &str) -> SparseVec {
        let n = Normalizer::default().normalize(text);
        let tokens = Tokenizer.tokenize(&n);
        Vectorizer::new(config)
            .unwrap()
            .transform(&n, text, &tokens)
    }

    fn words_only() -> FeatureConfig {
        FeatureConfig {
            word_ngrams: 1,
            char_min: 0,
            shape: false,
            tf: TermFrequency::Raw,
            ..FeatureConfig::default()
        }
    }

    #[test]
    fn counts_words() {
        let v = features(words_only(), "no no no yes");
        assert_eq!(v.len(), 2);
        let mut values = v.values.clone();
        values.sort_by(f32::total_cmp);
        assert_eq!(values, [1.0, 3.0]);
    }

    #[test]
    fn bigrams_add_one_feature_per_adjacent_pair() {
        let config = FeatureConfig {
            word_ngrams: 2,
            ..words_only()
        };
        assert_eq!(features(config, "one two three four").len(), 4 + 3);
    }

    #[test]
    fn char_ngram_count() {
        // "<cat>" has 5 symbols: 3 trigrams, 2 four-grams, 1 five-gram.
        let config = FeatureConfig {
            char_min: 3,
            char_max: 5,
            ..words_only()
        };
        let v = features(config, "cat");
        assert_eq!(v.len(), 1 + 3 + 2 + 1);
    }

    #[test]
    fn obfuscated_and_plain_spellings_share_features() {
        let config = FeatureConfig::default();
        assert_eq!(
            features(config.clone(), "You idiot"),
            features(config, "You 1d10t")
        );
    }

    #[test]
    fn binary_and_log_tf() {
        let binary = features(
            FeatureConfig {
                tf: TermFrequency::Binary,
                ..words_only()
            },
            "no no no",
        );
        assert_eq!(binary.values, [1.0]);
        let log = features(
            FeatureConfig {
                tf: TermFrequency::Log,
                ..words_only()
            },
            "no no no",
        );
        assert!((log.values[0] - 4.0f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn sparse_rows_keep_rows_in_order_across_blocks() {
        let row = |i: usize| SparseVec {
            indices: (0..i as u32 % 5).map(|k| k * 3 + i as u32).collect(),
            values: (0..i % 5).map(|k| k as f32 + 0.5).collect(),
        };
        let n = SparseRows::BLOCK * 2 + 7;
        // Whole blocks join without a copy; a part after an unfinished
        // block is copied row by row.
        for split in [SparseRows::BLOCK, SparseRows::BLOCK + 3, 0, n] {
            let (mut a, mut b) = (SparseRows::default(), SparseRows::default());
            (0..split).for_each(|i| a.push(row(i).view()));
            (split..n).for_each(|i| b.push(row(i).view()));
            a.append(b);
            assert_eq!(a.iter().count(), n);
            for i in 0..n {
                assert_eq!(a.row(i), row(i).view(), "row {i} after a split at {split}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn radix_sort_sorts(
            bits in 1u32..=32,
            keys in proptest::collection::vec(proptest::num::u32::ANY, 0..700),
        ) {
            let mask = if bits == 32 { u32::MAX } else { (1 << bits) - 1 };
            let mut keys: Vec<u32> = keys.into_iter().map(|k| k & mask).collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            radix_sort(&mut keys, &mut Vec::new(), bits);
            proptest::prop_assert_eq!(keys, expected);
        }
    }

    #[test]
    fn long_comments_merge_as_short_ones_do() {
        // 2^8 buckets: this comment has far more feature occurrences than
        // a quarter of that, so it takes the table merge.
        let config = FeatureConfig {
            buckets_log2: 8,
            ..FeatureConfig::default()
        };
        let text = "You are an 1d10t, stop it!! Thanks for the careful article. ".repeat(20);
        let n = Normalizer::default().normalize(&text);
        let tokens = Tokenizer.tokenize(&n);
        let vectorizer = Vectorizer::new(config).unwrap();
        let mut keys = Vec::new();
        vectorizer.visit(&n, &text, &tokens, |_, b, w| {
            keys.push(b << 1 | u32::from(w == 1.0))
        });
        assert!(keys.len() >= vectorizer.n_features() / 4);
        keys.sort_unstable();
        let mut sorted = SparseVec::default();
        merge_sorted(&keys, [0.3, 1.0], TermFrequency::Binary, &mut sorted);
        assert_eq!(vectorizer.transform(&n, &text, &tokens), sorted);
    }

    #[test]
    fn shape_feature_for_capitals() {
        let config = FeatureConfig {
            shape: true,
            ..words_only()
        };
        assert_eq!(features(config.clone(), "STOP").len(), 2);
        assert_eq!(features(config, "Stop").len(), 1);
    }

    #[test]
    fn negation_marks_words_until_punctuation() {
        let config = FeatureConfig {
            negation: true,
            ..words_only()
        };
        let plain = features(config.clone(), "hate");
        let negated = features(config.clone(), "I don't hate them");
        let after = features(config.clone(), "I don't know. hate");
        let far = features(config, "no one two three four five six hate");
        let hate = plain.indices[0];
        assert!(
            !negated.indices.contains(&hate),
            "negated 'hate' must differ"
        );
        assert!(
            after.indices.contains(&hate),
            "the scope ends at the full stop"
        );
        assert!(
            far.indices.contains(&hate),
            "the scope ends after six words"
        );
        let off = features(words_only(), "I don't hate them");
        assert!(off.indices.contains(&hate), "negation off by default");
    }

    #[test]
    fn validate_rejects_out_of_range() {
        for bad in [
            FeatureConfig {
                buckets_log2: 30,
                ..FeatureConfig::default()
            },
            FeatureConfig {
                word_ngrams: 0,
                ..FeatureConfig::default()
            },
            FeatureConfig {
                char_min: 5,
                char_max: 3,
                ..FeatureConfig::default()
            },
            FeatureConfig {
                char_weight: f32::NAN,
                ..FeatureConfig::default()
            },
        ] {
            assert!(Vectorizer::new(bad).is_err());
        }
    }
}
