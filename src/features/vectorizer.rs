//! The vectorizer: tokens to hashed word, character and shape features,
//! merged into one sorted sparse vector per comment.

use super::{FeatureConfig, Norm, SparseVec, TermFrequency};
use crate::error::SettingError;
use crate::hash::{fmix64, fnv1a_step};
use crate::normalize::Normalized;
use crate::tokenize::{Token, TokenKind};

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
    /// With `groups` on: the word hashes of the group words, sorted, so
    /// that a word is looked up by the hash its unigram needs anyway.
    group_hashes: Vec<u64>,
}

const SEED_WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const SEED_CHAR: u64 = 0xc2b2_ae3d_27d4_eb4f;
const SEED_BIGRAM: u64 = 0x1656_67b1_9e37_79f9;
const SEED_TRIGRAM: u64 = 0x27d4_eb2f_1656_67c5;
const SEED_NEGATED: u64 = 0x85eb_ca77_c2b2_ae63;
const SEED_NEAR_GROUP: u64 = 0x4cf5_ad43_2745_937f;
const MARK_START: u64 = 0x02;
const MARK_END: u64 = 0x03;

/// The most words a negation reaches.
const NEGATION_SCOPE: u8 = 6;

/// How many tokens before and after a group word are near it.
const GROUP_REACH: usize = 3;

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
        let mut group_hashes: Vec<u64> = match config.groups {
            true => super::groups::words()
                .map(|w| hash_str(SEED_WORD, w))
                .collect(),
            false => Vec::new(),
        };
        group_hashes.sort_unstable();
        Ok(Vectorizer {
            config,
            shift,
            group_hashes,
        })
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
        let mut groups = GroupScan::default();
        for (ti, token) in tokens.iter().enumerate() {
            let norm = text.get(token.norm.clone()).unwrap_or("");
            let (is_group, near_group) = if self.config.groups {
                groups.at(ti, text, tokens, &self.group_hashes)
            } else {
                (false, false)
            };
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
                TokenKind::Number => NUMBER,
                TokenKind::Url => URL,
                TokenKind::Mention => MENTION,
            };
            let unigram = if negated { h ^ SEED_NEGATED } else { h };
            f(ti, self.bucket(unigram), 1.0);
            if token.kind == TokenKind::Punct {
                continue;
            }
            if is_group {
                f(ti, self.bucket(GROUP), 1.0);
            } else if near_group {
                f(ti, self.bucket(h ^ SEED_NEAR_GROUP), 1.0);
            }
            if self.config.word_ngrams >= 2 {
                if let Some(p) = prev[1] {
                    f(ti, self.bucket(SEED_BIGRAM ^ p.rotate_left(21) ^ h), 1.0);
                    // The same bigrams with a group word as its class.
                    if is_group {
                        f(
                            ti,
                            self.bucket(SEED_BIGRAM ^ p.rotate_left(21) ^ GROUP),
                            1.0,
                        );
                    }
                    if groups.previous_was_group(ti) {
                        let g = SEED_BIGRAM ^ GROUP.rotate_left(21) ^ h;
                        f(ti, self.bucket(g), 1.0);
                    }
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
                    f(ti, self.bucket(CAPS), 1.0);
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
                    h = fnv1a_step(h, MARK_START);
                    n = 1;
                    word
                }
                Some(i) => &word[i..],
            };
            let mut chars = rest.chars();
            while n < max {
                match chars.next() {
                    Some(c) => {
                        h = fnv1a_step(h, u64::from(c));
                        n += 1;
                        if n >= min {
                            f(self.bucket(h));
                        }
                    }
                    None => {
                        h = fnv1a_step(h, MARK_END);
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
pub(super) fn radix_sort(keys: &mut Vec<u32>, spare: &mut Vec<u32>, bits: u32) {
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
pub(super) fn merge_sorted(
    keys: &[u32],
    weights: [f32; 2],
    tf: TermFrequency,
    out: &mut SparseVec,
) {
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

const fn hash_str(seed: u64, s: &str) -> u64 {
    let bytes = s.as_bytes();
    let (mut h, mut i) = (seed, 0);
    while i < bytes.len() {
        h = fnv1a_step(h, bytes[i] as u64);
        i += 1;
    }
    h
}

/// The word hashes of the marker features, computed once at compile time
/// rather than for each token.
const NUMBER: u64 = hash_str(SEED_WORD, "\u{1}number");
const URL: u64 = hash_str(SEED_WORD, "\u{1}url");
const MENTION: u64 = hash_str(SEED_WORD, "\u{1}mention");
const CAPS: u64 = hash_str(SEED_WORD, "\u{1}caps");
const GROUP: u64 = hash_str(SEED_WORD, "\u{1}group");

/// Where the group words of a comment are, found by one forward scan as
/// the vectorizer walks the tokens, without allocating.
#[derive(Debug, Default)]
struct GroupScan {
    /// The first token not yet looked at.
    scanned: usize,
    /// The next group word at or after the current token.
    next: Option<usize>,
    /// The last group word before the current token.
    last: Option<usize>,
}

impl GroupScan {
    /// Whether token `ti` is a group word, and whether it is a word near
    /// one (at most [`GROUP_REACH`] tokens before or after). Called with
    /// `ti` increasing.
    fn at(&mut self, ti: usize, text: &str, tokens: &[Token], hashes: &[u64]) -> (bool, bool) {
        if let Some(g) = self.next.filter(|&g| g < ti) {
            self.last = Some(g);
            self.next = None;
        }
        if self.next.is_none() {
            self.scanned = self.scanned.max(ti);
            while let Some(t) = tokens.get(self.scanned) {
                self.scanned += 1;
                let word = text.get(t.norm.clone()).unwrap_or("");
                // A group word is 3 to 13 bytes long: most words are
                // decided on their length, the others on their hash.
                if t.kind == TokenKind::Word
                    && (3..=13).contains(&word.len())
                    && hashes.binary_search(&hash_str(SEED_WORD, word)).is_ok()
                {
                    self.next = Some(self.scanned - 1);
                    break;
                }
            }
        }
        let is_group = self.next == Some(ti);
        let near = !is_group
            && tokens[ti].kind == TokenKind::Word
            && (self.last.is_some_and(|g| ti - g <= GROUP_REACH)
                || self.next.is_some_and(|g| g - ti <= GROUP_REACH));
        (is_group, near)
    }

    /// Whether the token before `ti` was a group word.
    fn previous_was_group(&self, ti: usize) -> bool {
        ti > 0 && (self.last == Some(ti - 1) || self.next == Some(ti - 1))
    }
}
