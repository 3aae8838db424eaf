//! Stage 4: the model — naive Bayes heads, their training, and the model file.
//!
//! A [`Model`] is what a model file holds: the pipeline configuration, one
//! [`Head`] per question with its calibration, the policy, and one compact
//! table of scoring weights for every head, laid out so that one feature's
//! weights for every head sit next to each other in memory. Training keeps
//! each head's counts; the table is derived from them once, when training
//! ends, and stored, so loading a model is a copy (or, for the embedded
//! model, nothing at all: the table is read in place). A [`Moderator`] is a
//! model made ready to score: the pipeline built and the policy's rules
//! resolved to positions in the verdict.

pub mod calibration;
mod file;
#[cfg(feature = "linfa")]
pub(crate) mod linfa;
pub mod naive_bayes;
pub(crate) mod refine;
pub mod train;

use crate::error::{Error, Result};
use crate::features::SparseVec;
use crate::pipeline::{Pipeline, PipelineConfig, Scratch};
use crate::policy::{Decision, Oversize, Policy, SizeLimit};
use calibration::{Calibration, Temperature};
use naive_bayes::Head;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub use file::{FORMAT_VERSION, OLDEST_SUPPORTED_VERSION};

/// Bytes aligned for reading `f32`s in place.
#[repr(C, align(64))]
struct Aligned<B: ?Sized>(B);

/// The default model, trained from public corpora and our own comments
/// (see `models/README.md`), embedded in the library. Its weight table
/// starts at a multiple of 64 bytes into the file, so with this alignment
/// it is used where it lies.
static DEFAULT_MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("../../models/default.civ"));

/// One head with what scoring needs besides its weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeadState {
    /// The head's description; its counts are kept only while training.
    pub head: Head,
    /// Constant terms of the head's columns in the weight table: the
    /// log-prior ratio of a binary head, else one log-prior per class.
    pub bias: Vec<f64>,
    /// For a binary head, the index of the label whose probability is
    /// reported (e.g. "uncivil", "true").
    pub positive: Option<usize>,
    /// Calibration map of a binary head's log-odds.
    pub calibration: Option<Calibration>,
    /// Temperature of a multi-class head's softmax.
    pub temperature: Option<Temperature>,
    /// Per-class additive biases of a multi-class head's logits (before
    /// the temperature), tuned on out-of-fold scores; `None` = all 0.
    pub class_bias: Option<Vec<f64>>,
}

/// A trained model: what a model file holds.
///
/// # Examples
///
/// ```
/// use civility::Model;
///
/// let model = Model::embedded()?;
/// let names: Vec<&str> = model.heads().map(|h| h.name()).collect();
/// assert_eq!(names[0], "incivility");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) pipeline: PipelineConfig,
    pub(crate) heads: Vec<HeadState>,
    pub(crate) policy: Policy,
    pub(crate) metadata: serde_json::Value,
    pub(crate) table: Table,
}

/// Every head's weights in one feature-major table: feature `f`'s weights
/// for all columns are `weights[f * stride..(f + 1) * stride]`. A binary
/// head has one column (the log-odds of its positive label), a multi-class
/// head one per class; heads take their columns in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub weights: Weights,
    pub stride: usize,
}

/// The table's storage: read in place from the embedded model, or owned.
#[derive(Clone)]
pub(crate) enum Weights {
    Static(&'static [f32]),
    Shared(Arc<[f32]>),
}

impl std::ops::Deref for Weights {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match self {
            Weights::Static(w) => w,
            Weights::Shared(w) => w,
        }
    }
}

impl PartialEq for Weights {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Weights({} values)", self.len())
    }
}

/// True if no value is infinite or NaN. Checks a block at a time with
/// no early exit, which the compiler turns into vector instructions: the
/// default model's 4.5 million weights take a fraction of a millisecond.
fn all_finite(values: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    values.chunks(256).all(|block| {
        block.iter().fold(0u32, |bad, w| {
            bad | u32::from(w.to_bits() & EXPONENT == EXPONENT)
        }) == 0
    })
}

/// Number of table columns of a head.
pub(crate) fn columns_of(h: &HeadState) -> usize {
    if h.positive.is_some() {
        1
    } else {
        h.head.labels.len()
    }
}

impl Table {
    /// Derives the table from the heads' counts, setting each head's
    /// constant terms, and lets the heads drop their counts.
    pub(crate) fn from_counts(heads: &mut [HeadState]) -> Result<Table> {
        let weights = heads
            .iter()
            .map(|h| h.head.scoring_weights(h.positive))
            .collect();
        Table::from_weights(heads, weights)
    }

    /// Lays out each head's scoring weights (`weights[h]`, as
    /// [`Head::scoring_weights`] gives them) in one table, setting each
    /// head's constant terms, and lets the heads drop their counts.
    pub(crate) fn from_weights(
        heads: &mut [HeadState],
        weights: Vec<naive_bayes::HeadWeights>,
    ) -> Result<Table> {
        let n_features = heads.first().map_or(0, |h| h.head.n_features);
        if let Some(h) = heads.iter().find(|h| h.head.n_features != n_features) {
            return Err(Error::InvalidSetting(format!(
                "head {:?} has {} features, the first head {n_features}",
                h.head.name, h.head.n_features
            )));
        }
        let stride: usize = heads.iter().map(columns_of).sum();
        let mut table = vec![0.0f32; n_features * stride];
        let mut column = 0;
        for (h, w) in heads.iter_mut().zip(weights) {
            if w.bias.len() != columns_of(h) || w.weights.len() != w.bias.len() * n_features {
                return Err(Error::InvalidSetting(format!(
                    "head {:?}: weights of the wrong shape",
                    h.head.name
                )));
            }
            for (c, weights) in w.weights.chunks_exact(n_features.max(1)).enumerate() {
                for (f, &x) in weights.iter().enumerate() {
                    table[f * stride + column + c] = x as f32;
                }
            }
            column += w.bias.len();
            h.bias = w.bias;
            h.head.counts = Vec::new();
        }
        Ok(Table {
            weights: Weights::Shared(table.into()),
            stride,
        })
    }
}

impl Model {
    /// The embedded default model.
    ///
    /// # Errors
    ///
    /// Only if the embedded bytes were damaged at build time.
    pub fn embedded() -> Result<Model> {
        file::read_static(&DEFAULT_MODEL.0)
    }

    /// Reads a model file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read, [`Error::NotAModel`],
    /// [`Error::Incompatible`] or [`Error::Damaged`] if its content is not a
    /// usable model.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        file::read(std::io::BufReader::new(file)).map_err(|e| match e {
            Error::Read(io) => Error::io(path, io),
            other => other,
        })
    }

    /// Reads a model from a stream.
    ///
    /// # Errors
    ///
    /// As [`Model::from_path`].
    pub fn from_reader(reader: impl Read) -> Result<Model> {
        file::read(reader)
    }

    /// Reads a model from bytes.
    ///
    /// # Errors
    ///
    /// As [`Model::from_path`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        file::read(bytes)
    }

    /// Writes the model to `path` atomically (temporary file, then rename):
    /// an existing file is replaced only by a complete new one.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file that could not be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        file::save(self, path.as_ref())
    }

    /// Writes the model to a stream.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] if writing fails.
    pub fn write_to(&self, writer: impl std::io::Write) -> Result<()> {
        file::write(self, writer)
    }

    /// The pipeline the model was trained with.
    pub fn pipeline(&self) -> &PipelineConfig {
        &self.pipeline
    }

    /// The heads, in output order.
    pub fn heads(&self) -> impl Iterator<Item = &Head> {
        self.heads.iter().map(|h| &h.head)
    }

    /// The stored policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Free-form information recorded at training time (sources, sizes,
    /// validation metrics).
    pub fn metadata(&self) -> &serde_json::Value {
        &self.metadata
    }

    /// Checks the whole model: its settings ([`Model::check_settings`])
    /// and every weight of its table. Reading and training run it, so
    /// every `Model` has passed it.
    pub(crate) fn check(&self) -> Result<()> {
        self.check_settings()?;
        if !all_finite(&self.table.weights) {
            return Err(Error::InvalidSetting(
                "the model has a non-finite weight".into(),
            ));
        }
        Ok(())
    }

    /// Checks everything but the values of the weight table: heads,
    /// biases, calibration, the table's shape, and that the policy refers
    /// to heads and labels the model has.
    pub(crate) fn check_settings(&self) -> Result<()> {
        if self.heads.is_empty() {
            return Err(Error::InvalidSetting(
                "a model needs at least one head".into(),
            ));
        }
        self.policy.validate()?;
        for rule in &self.policy.rules {
            let head = self
                .heads
                .iter()
                .find(|h| h.head.name == rule.head)
                .ok_or_else(|| {
                    Error::InvalidSetting(format!(
                        "the policy names a missing head {:?}",
                        rule.head
                    ))
                })?;
            if !head.head.labels.contains(&rule.label) {
                return Err(Error::InvalidSetting(format!(
                    "the policy names label {:?}, which head {:?} does not have",
                    rule.label, rule.head
                )));
            }
        }
        let stride: usize = self.heads.iter().map(columns_of).sum();
        let n_features = self.heads[0].head.n_features;
        if self.table.stride != stride
            || self.table.weights.len() != n_features.saturating_mul(stride)
            || self.heads.iter().any(|h| h.bias.len() != columns_of(h))
        {
            return Err(Error::InvalidSetting(
                "the weight table does not match the heads".into(),
            ));
        }
        if self
            .heads
            .iter()
            .any(|h| h.bias.iter().any(|b| !b.is_finite()))
        {
            return Err(Error::InvalidSetting(
                "the model has a non-finite weight".into(),
            ));
        }
        for h in &self.heads {
            let binary = h.head.labels.len() == 2;
            if h.positive.is_some() != binary {
                return Err(Error::InvalidSetting(format!(
                    "head {:?}: a positive label is required for two labels and only then",
                    h.head.name
                )));
            }
            if let Some(b) = &h.class_bias {
                if h.positive.is_some()
                    || b.len() != h.head.labels.len()
                    || b.iter().any(|x| !x.is_finite())
                {
                    return Err(Error::InvalidSetting(format!(
                        "head {:?}: class biases need a multi-class head and one finite value per label",
                        h.head.name
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Names and labels of a model's heads, shared by every verdict.
#[derive(Debug)]
struct Layout {
    heads: Vec<HeadInfo>,
    /// Number of labels of all heads together.
    labels: usize,
    /// Index of the head and label of the policy's main rule.
    main: (usize, usize),
}

#[derive(Debug)]
struct HeadInfo {
    name: String,
    labels: Vec<String>,
    positive: Option<usize>,
    /// Offset of the head's probabilities in a verdict.
    offset: usize,
    /// First column of the head in the weight table.
    column: usize,
    /// Constant terms: one (log-odds) for a binary head, else one per class
    /// (the class biases tuned at training time included).
    bias: Vec<f64>,
    calibration: Option<Calibration>,
    temperature: Option<Temperature>,
}

/// A model ready to score comments. Load once, share across threads
/// (`Send + Sync`), call [`Moderator::score`] with `&self`.
///
/// # Examples
///
/// ```
/// use civility::{Decision, Moderator};
///
/// let moderator = Moderator::embedded()?;
/// let verdict = moderator.score("Thank you for this careful, balanced article.");
/// assert_eq!(verdict.decision(), Decision::Allow);
/// let verdict = moderator.score("You are a pathetic idiot, shut up.");
/// assert!(verdict.incivility() > 0.5);
/// assert!(verdict.attribute("insult").unwrap() > 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Moderator {
    model: Arc<Model>,
    pipeline: Arc<Pipeline>,
    layout: Arc<Layout>,
    policy: Policy,
    /// For each rule of the policy, the position of its label's
    /// probability in a verdict.
    rule_slots: Arc<[usize]>,
    size_limit: Option<SizeLimit>,
}

impl Moderator {
    /// Prepares a model for scoring.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if the model's pipeline or policy is
    /// inconsistent.
    pub fn new(model: Model) -> Result<Moderator> {
        // The table's 4.5 million values were checked when the model was
        // read or trained; a model changed since can only have new settings.
        model.check_settings()?;
        let pipeline = Pipeline::new(model.pipeline.clone()).map_err(Error::InvalidSetting)?;
        let n_features = pipeline.vectorizer().n_features();
        if model.table.weights.len() != n_features * model.table.stride {
            return Err(Error::InvalidSetting(format!(
                "the weight table has {} values but the pipeline makes {n_features} features \
                 of {} columns",
                model.table.weights.len(),
                model.table.stride
            )));
        }
        let mut heads = Vec::with_capacity(model.heads.len());
        let (mut column, mut offset) = (0, 0);
        for h in &model.heads {
            let mut bias = h.bias.clone();
            if let Some(extra) = h.class_bias.as_ref().filter(|_| h.positive.is_none()) {
                for (b, e) in bias.iter_mut().zip(extra) {
                    *b += e;
                }
            }
            heads.push(HeadInfo {
                name: h.head.name.clone(),
                labels: h.head.labels.clone(),
                positive: h.positive,
                offset,
                column,
                bias,
                calibration: h.calibration.clone(),
                temperature: h.temperature,
            });
            column += columns_of(h);
            offset += h.head.labels.len();
        }
        let main_rule = model.policy.main_rule();
        let main_head = heads
            .iter()
            .position(|h| h.name == main_rule.head)
            .ok_or_else(|| Error::InvalidSetting("the policy names a missing head".into()))?;
        let main_label = heads[main_head]
            .labels
            .iter()
            .position(|l| *l == main_rule.label)
            .ok_or_else(|| Error::InvalidSetting("the policy names a missing label".into()))?;
        let layout = Layout {
            labels: heads.iter().map(|h| h.labels.len()).sum(),
            heads,
            main: (main_head, main_label),
        };
        let rule_slots = layout.rule_slots(&model.policy)?;
        Ok(Moderator {
            policy: model.policy.clone(),
            model: Arc::new(model),
            pipeline: Arc::new(pipeline),
            layout: Arc::new(layout),
            rule_slots: rule_slots.into(),
            size_limit: Some(SizeLimit::default()),
        })
    }

    /// The embedded default model, ready to score.
    ///
    /// # Errors
    ///
    /// Only if the embedded bytes were damaged at build time.
    pub fn embedded() -> Result<Moderator> {
        Moderator::new(Model::embedded()?)
    }

    /// Loads a model file and prepares it.
    ///
    /// # Errors
    ///
    /// As [`Model::from_path`] and [`Moderator::new`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Moderator> {
        Moderator::new(Model::from_path(path)?)
    }

    /// Loads a model from a stream and prepares it.
    ///
    /// # Errors
    ///
    /// As [`Model::from_reader`] and [`Moderator::new`].
    pub fn from_reader(reader: impl Read) -> Result<Moderator> {
        Moderator::new(Model::from_reader(reader)?)
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Replaces the policy.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if the policy is invalid or names a head or
    /// label the model does not have, or changes the main rule's head.
    pub fn set_policy(&mut self, policy: Policy) -> Result<()> {
        policy.validate()?;
        let main = policy.main_rule();
        let (h, l) = self.layout.main;
        if main.head != self.layout.heads[h].name || main.label != self.layout.heads[h].labels[l] {
            return Err(Error::InvalidSetting(
                "the main rule must keep the model's main head and label".into(),
            ));
        }
        self.rule_slots = self.layout.rule_slots(&policy)?.into();
        self.policy = policy;
        Ok(())
    }

    /// Overrides the main rule's review and reject thresholds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if a threshold is outside [0, 1] or reject
    /// falls below review.
    pub fn set_thresholds(&mut self, review: Option<f64>, reject: Option<f64>) -> Result<()> {
        self.policy.set_thresholds(review, reject)
    }

    /// The size limit in force: [`SizeLimit::default`] (64 KiB, truncate
    /// and flag) unless set otherwise; `None` scores comments of any length.
    pub fn size_limit(&self) -> Option<SizeLimit> {
        self.size_limit
    }

    /// Sets how long a comment may be before only its beginning is scored,
    /// and what that does to the decision (see [`SizeLimit`]); `None`
    /// scores every comment in full, in time linear in its length.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::{Decision, Moderator, Oversize, SizeLimit};
    ///
    /// let mut moderator = Moderator::embedded()?;
    /// moderator.set_size_limit(Some(SizeLimit::new(4096, Oversize::Reject)));
    /// let verdict = moderator.score(&"Interesting. ".repeat(1000));
    /// assert!(verdict.truncated());
    /// assert_eq!(verdict.decision(), Decision::Reject);
    ///
    /// moderator.set_size_limit(None);
    /// assert!(!moderator.score(&"Interesting. ".repeat(1000)).truncated());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_size_limit(&mut self, limit: Option<SizeLimit>) {
        self.size_limit = limit;
    }

    /// Scores one comment. Never fails: empty, emoji-only or very long
    /// text still gets a verdict. A comment over the [size
    /// limit](Moderator::set_size_limit) is scored on its beginning and its
    /// verdict says it was [truncated](Verdict::truncated).
    ///
    /// Each thread keeps one [`Scratch`] for these calls, so after the
    /// first comment they allocate only the verdict. Its buffers grow to
    /// the longest comment scored on the thread, but a comment longer than
    /// the default size limit (64 KiB; possible with a larger limit or
    /// none) gets buffers of its own, freed with it.
    pub fn score(&self, text: &str) -> Verdict {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
        }
        if text.len() > SizeLimit::DEFAULT_MAX_BYTES {
            return self.score_with(text, &mut Scratch::default());
        }
        SCRATCH
            .try_with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => self.score_with(text, &mut scratch),
                // Only if scoring ever called itself on this thread.
                Err(_) => self.score_with(text, &mut Scratch::default()),
            })
            .unwrap_or_else(|_| self.score_with(text, &mut Scratch::default()))
    }

    /// Scores one comment reusing `scratch`'s buffers, for callers that
    /// score many comments on one thread.
    pub fn score_with(&self, text: &str, scratch: &mut Scratch) -> Verdict {
        let (text, oversize) = self.scored_part(text);
        // Each weight row is asked for as soon as its feature is known, so
        // the rows arrive while the feature stage scales the vector.
        let table = &self.model.table;
        self.pipeline.vectorize_into(text, scratch, |f| {
            prefetch(&table.weights[f as usize * table.stride..][..table.stride])
        });
        self.verdict_for(&scratch.features, &mut scratch.sums)
            .oversized(oversize)
    }

    /// The part of `text` that is scored, and the size limit's policy if
    /// the text was cut.
    fn scored_part<'a>(&self, text: &'a str) -> (&'a str, Option<Oversize>) {
        let limit = self.size_limit.as_ref();
        match limit.and_then(|l| Some((l.cut(text)?, l.on_oversize))) {
            Some((part, on_oversize)) => (part, Some(on_oversize)),
            None => (text, None),
        }
    }

    /// Scores several comments, in order.
    pub fn score_batch<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Verdict> {
        let mut scratch = Scratch::default();
        texts
            .iter()
            .map(|t| self.score_with(t.as_ref(), &mut scratch))
            .collect()
    }

    /// Scores a comment and says which words pushed the main head's score
    /// up or down, with their byte ranges in `text`. Of a comment over the
    /// size limit, only the words of the scored beginning are listed.
    pub fn explain(&self, text: &str) -> Explanation {
        let (text, oversize) = self.scored_part(text);
        let analysis = self.pipeline.analyze(text);
        let (h, l) = self.layout.main;
        let head = &self.layout.heads[h];
        // Per token: the sum of its features' weights toward the main label.
        let mut per_token = vec![0.0f64; analysis.tokens.len()];
        let table = &self.model.table;
        self.pipeline.vectorizer().visit(
            &analysis.normalized,
            text,
            &analysis.tokens,
            |t, f, v| {
                let row = &table.weights[f as usize * table.stride..];
                let w = match head.positive {
                    Some(p) => {
                        let sign = if p == l { 1.0 } else { -1.0 };
                        sign * f64::from(row[head.column])
                    }
                    None => f64::from(row[head.column + l]),
                };
                per_token[t] += f64::from(v) * w;
            },
        );
        let mut evidence: Vec<Evidence> = analysis
            .tokens
            .iter()
            .zip(per_token)
            .map(|(t, weight)| Evidence {
                span: t.span.clone(),
                text: text.get(t.span.clone()).unwrap_or("").to_string(),
                weight,
            })
            .collect();
        evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        // The verdict from the same analysis: the text is normalized and
        // tokenized once.
        let mut scratch = Scratch::default();
        self.pipeline.vectorizer().transform_into(
            &analysis.normalized,
            text,
            &analysis.tokens,
            &mut scratch.keys,
            &mut scratch.features,
            |_| {},
        );
        Explanation {
            verdict: self
                .verdict_for(&scratch.features, &mut scratch.sums)
                .oversized(oversize),
            evidence,
        }
    }

    /// The verdict for a feature vector. `sums` is scratch space for the
    /// per-column sums; the verdict's own vectors are the only allocations.
    fn verdict_for(&self, x: &SparseVec, sums: &mut Vec<f64>) -> Verdict {
        let table = &self.model.table;
        let stride = table.stride;
        sums.clear();
        sums.resize(stride, 0.0);
        accumulate(&table.weights, stride, x, sums);
        let layout = &self.layout;
        let mut probs = vec![0.0f64; layout.labels];
        let mut raw = Vec::with_capacity(layout.heads.len());
        for h in &layout.heads {
            let out = &mut probs[h.offset..h.offset + h.labels.len()];
            match h.positive {
                Some(p) => {
                    let llr = h.bias[0] + sums[h.column];
                    let prob = match &h.calibration {
                        Some(c) => c.apply(llr),
                        None => calibration::sigmoid(llr),
                    };
                    out[p] = prob;
                    out[1 - p] = 1.0 - prob;
                    raw.push(llr);
                }
                None => {
                    let logits = &mut sums[h.column..h.column + h.labels.len()];
                    for (z, b) in logits.iter_mut().zip(&h.bias) {
                        *z += b;
                    }
                    let t = h.temperature.unwrap_or(Temperature { t: 1.0 });
                    t.apply(logits, out);
                    raw.push(f64::NAN);
                }
            }
        }
        let decision = self
            .policy
            .decide_by_rule(|r| self.rule_slots.get(r).map(|&i| probs[i]));
        Verdict {
            decision,
            layout: Arc::clone(&self.layout),
            probs,
            raw,
            truncated: false,
        }
    }
}

/// How many features ahead of the one being added [`accumulate`] asks
/// for the row of. The default model's table (12.6 MB) is larger than
/// the processor's own caches, and a comment's features are scattered
/// over it: waiting for rows was a fifth of the time of `score --jsonl`.
/// Rows asked for as the feature stage finds them (`score_with`) gave 11%
/// more comments a second, and asking again 16 rows ahead here 1-2% more
/// (8 and 16 measured alike, 4 less).
const PREFETCH_AHEAD: usize = 16;

/// Asks the processor to bring `row` into the cache: a hint, which
/// changes no value and cannot fail.
#[inline(always)]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let (first, last) = (row.as_ptr(), row.as_ptr().wrapping_add(row.len() - 1));
        // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 processor
        // has, and only hints: it reads nothing the program can see and
        // never faults. Both addresses are inside `row`.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(first.cast());
            _mm_prefetch::<_MM_HINT_T0>(last.cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Adds `x`'s rows of the weight table (`stride` columns) into `sums`.
/// The common widths get a loop of a width known at compile time, which
/// the compiler unrolls and vectorizes; every column still adds its terms
/// in feature order, so the sums are the same to the last bit.
fn accumulate(weights: &[f32], stride: usize, x: &SparseVec, sums: &mut [f64]) {
    fn fixed<const S: usize>(weights: &[f32], x: &SparseVec, sums: &mut [f64]) {
        let sums: &mut [f64; S] = sums.try_into().expect("one sum per column");
        for (i, (f, v)) in x.iter().enumerate() {
            if let Some(&ahead) = x.indices.get(i + PREFETCH_AHEAD) {
                prefetch(&weights[ahead as usize * S..][..S]);
            }
            let at = f as usize * S;
            let row: &[f32; S] = weights[at..at + S].try_into().expect("a whole row");
            let v = f64::from(v);
            for c in 0..S {
                sums[c] += v * f64::from(row[c]);
            }
        }
    }
    macro_rules! widths {
        ($($s:literal)*) => {
            match stride {
                $($s => return fixed::<$s>(weights, x, sums),)*
                _ => {}
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    for (i, (f, v)) in x.iter().enumerate() {
        if let Some(&ahead) = x.indices.get(i + PREFETCH_AHEAD) {
            prefetch(&weights[ahead as usize * stride..][..stride]);
        }
        let at = f as usize * stride;
        let v = f64::from(v);
        for (a, &w) in sums.iter_mut().zip(&weights[at..at + stride]) {
            *a += v * f64::from(w);
        }
    }
}

impl Layout {
    /// Where each rule's probability sits in a verdict.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming a rule's head or label that the
    /// model does not have.
    fn rule_slots(&self, policy: &Policy) -> Result<Vec<usize>> {
        policy
            .rules
            .iter()
            .map(|rule| {
                self.heads
                    .iter()
                    .find(|h| h.name == rule.head)
                    .and_then(|h| {
                        let l = h.labels.iter().position(|x| *x == rule.label)?;
                        Some(h.offset + l)
                    })
                    .ok_or_else(|| {
                        Error::InvalidSetting(format!(
                            "the policy names {}={}, which the model does not have",
                            rule.head, rule.label
                        ))
                    })
            })
            .collect()
    }
}

/// The scores and decision for one comment.
///
/// Serializes to the stable JSON object the CLI prints:
/// `{"decision", "incivility", "attributes": {name: p}, "tone": {"label", "scores"}}`,
/// followed by `"truncated": true` only for a comment over the size limit.
#[derive(Debug, Clone)]
pub struct Verdict {
    decision: Decision,
    layout: Arc<Layout>,
    /// Probabilities of every label of every head, head by head.
    probs: Vec<f64>,
    /// Uncalibrated log-odds of each binary head (NaN for multi-class).
    raw: Vec<f64>,
    /// Only the beginning of the comment was scored.
    truncated: bool,
}

/// The scores of one head in a verdict.
#[derive(Debug, Clone, Copy)]
pub struct HeadScore<'a> {
    /// The head's name.
    pub name: &'a str,
    /// Its labels.
    pub labels: &'a [String],
    /// One probability per label, summing to 1.
    pub probabilities: &'a [f64],
    /// For a binary head, the label whose probability is reported.
    pub positive: Option<&'a str>,
}

impl HeadScore<'_> {
    /// The most probable label.
    pub fn top(&self) -> (&str, f64) {
        let mut best = 0;
        for (i, &p) in self.probabilities.iter().enumerate() {
            if p > self.probabilities[best] {
                best = i;
            }
        }
        (self.labels[best].as_str(), self.probabilities[best])
    }

    /// The probability of the positive label (binary heads only).
    pub fn positive_probability(&self) -> Option<f64> {
        let p = self.positive?;
        let i = self.labels.iter().position(|l| l == p)?;
        Some(self.probabilities[i])
    }
}

impl Verdict {
    /// What to do with the comment.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// True if the comment was over the moderator's
    /// [`SizeLimit`] and only its beginning was scored.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Marks the verdict of a comment that was cut to the size limit, and
    /// applies the limit's policy to the decision.
    fn oversized(mut self, oversize: Option<Oversize>) -> Verdict {
        if let Some(policy) = oversize {
            self.truncated = true;
            self.decision = policy.apply(self.decision);
        }
        self
    }

    /// The probability of the main rule's label, P(uncivil) for the
    /// default model.
    pub fn incivility(&self) -> f64 {
        let (h, l) = self.layout.main;
        self.probs[self.layout.heads[h].offset + l]
    }

    /// Every head's scores, in model order.
    pub fn heads(&self) -> impl Iterator<Item = HeadScore<'_>> {
        self.layout.heads.iter().map(|h| HeadScore {
            name: &h.name,
            labels: &h.labels,
            probabilities: &self.probs[h.offset..h.offset + h.labels.len()],
            positive: h.positive.map(|p| h.labels[p].as_str()),
        })
    }

    /// The scores of the head called `name`.
    pub fn head(&self, name: &str) -> Option<HeadScore<'_>> {
        self.heads().find(|h| h.name == name)
    }

    /// The probability of `label` of head `head`.
    pub fn probability(&self, head: &str, label: &str) -> Option<f64> {
        let h = self.head(head)?;
        let i = h.labels.iter().position(|l| l == label)?;
        Some(h.probabilities[i])
    }

    /// The binary heads other than the main one, as `(name, P(positive))`:
    /// `insult`, `profanity`, `identity_attack`, `threat` for the default model.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, f64)> {
        let main = self.layout.main.0;
        self.heads()
            .enumerate()
            .filter(move |(i, h)| *i != main && h.positive.is_some())
            .filter_map(|(_, h)| Some((h.name, h.positive_probability()?)))
    }

    /// P(positive) of the attribute head called `name`.
    pub fn attribute(&self, name: &str) -> Option<f64> {
        self.attributes().find(|(n, _)| *n == name).map(|(_, p)| p)
    }

    /// The head called `tone`, if the model has one.
    pub fn tone(&self) -> Option<HeadScore<'_>> {
        self.head("tone").filter(|h| h.positive.is_none())
    }

    /// The uncalibrated log-odds of a binary head: the naive Bayes score
    /// before calibration, finer-grained for ranking at the extremes.
    pub fn log_odds(&self, head: &str) -> Option<f64> {
        let i = self.layout.heads.iter().position(|h| h.name == head)?;
        let r = self.raw[i];
        (!r.is_nan()).then_some(r)
    }
}

struct LabelScores<'a>(HeadScore<'a>);

impl Serialize for LabelScores<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.labels.len()))?;
        for (l, p) in self.0.labels.iter().zip(self.0.probabilities) {
            map.serialize_entry(l, p)?;
        }
        map.end()
    }
}

struct ClassScore<'a>(HeadScore<'a>);

impl Serialize for ClassScore<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ClassScore", 2)?;
        st.serialize_field("label", self.0.top().0)?;
        st.serialize_field("scores", &LabelScores(self.0))?;
        st.end()
    }
}

struct Attributes<'a>(&'a Verdict);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (name, p) in self.0.attributes() {
            map.serialize_entry(name, &p)?;
        }
        map.end()
    }
}

struct OtherClasses<'a>(&'a Verdict);

impl Serialize for OtherClasses<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for h in self
            .0
            .heads()
            .filter(|h| h.positive.is_none() && h.name != "tone")
        {
            map.serialize_entry(h.name, &ClassScore(h))?;
        }
        map.end()
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let has_other = self
            .heads()
            .any(|h| h.positive.is_none() && h.name != "tone");
        let fields = 4 + usize::from(has_other) + usize::from(self.truncated);
        let mut st = s.serialize_struct("Verdict", fields)?;
        st.serialize_field("decision", &self.decision)?;
        st.serialize_field("incivility", &self.incivility())?;
        st.serialize_field("attributes", &Attributes(self))?;
        st.serialize_field("tone", &self.tone().map(ClassScore))?;
        if has_other {
            st.serialize_field("classes", &OtherClasses(self))?;
        } else {
            st.skip_field("classes")?;
        }
        // Only when set, so the JSON of a comment within the limit is the
        // same as before there was a limit.
        if self.truncated {
            st.serialize_field("truncated", &true)?;
        } else {
            st.skip_field("truncated")?;
        }
        st.end()
    }
}

/// A verdict with the words that drove it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The verdict.
    pub verdict: Verdict,
    /// Every token with its contribution to the main head's log-odds,
    /// strongest push toward the main label first.
    pub evidence: Vec<Evidence>,
}

/// One word's contribution to a verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Byte range in the original comment.
    pub span: Range<usize>,
    /// The original text of the span.
    pub text: String,
    /// Contribution to the main head's log-odds (positive: toward the main
    /// label, e.g. uncivil).
    pub weight: f64,
}

/// A small model with a binary head and a three-label `tone` head, for
/// the unit tests of this module and of the file format.
#[cfg(test)]
pub(crate) fn tiny_tone_model(class_bias: Option<Vec<f64>>) -> Model {
    use crate::policy::Rule;
    let mut pipeline = PipelineConfig::default();
    pipeline.features.buckets_log2 = 8;
    let vectorizer = Pipeline::new(pipeline.clone()).unwrap();
    let n = vectorizer.vectorizer().n_features();
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut binary = Head::new(
        "incivility",
        labels(&["civil", "uncivil"]),
        naive_bayes::Variant::Multinomial,
        1.0,
        n,
    )
    .unwrap();
    let mut tone = Head::new(
        "tone",
        labels(&["joy", "anger", "fear"]),
        naive_bayes::Variant::Complement,
        1.0,
        n,
    )
    .unwrap();
    let rows = [
        ("thanks, what a lovely story", 0, 0),
        ("great work, glad to read it", 0, 0),
        ("lovely and great", 0, 0),
        ("you idiot, I hate this", 1, 1),
        ("this is outrageous, I am furious", 0, 1),
        ("I am scared and worried", 0, 2),
    ];
    for (text, b, t) in rows {
        let x = vectorizer.vectorize(text);
        binary.add(&x, b, 1.0);
        tone.add(&x, t, 1.0);
    }
    let heads = vec![
        HeadState {
            head: binary,
            bias: Vec::new(),
            positive: Some(1),
            calibration: None,
            temperature: None,
            class_bias: None,
        },
        HeadState {
            head: tone,
            bias: Vec::new(),
            positive: None,
            calibration: None,
            temperature: Some(Temperature { t: 0.5 }),
            class_bias,
        },
    ];
    let policy = Policy::new(vec![Rule {
        head: "incivility".into(),
        label: "uncivil".into(),
        review: Some(0.5),
        reject: Some(0.9),
    }])
    .unwrap();
    let mut heads = heads;
    let table = Table::from_counts(&mut heads).unwrap();
    Model {
        pipeline,
        heads,
        policy,
        metadata: serde_json::Value::Null,
        table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finite_finds_every_non_finite_value() {
        let mut values = vec![1.0f32; 1000];
        values[3] = f32::MAX;
        values[4] = f32::MIN_POSITIVE / 2.0;
        values[5] = -0.0;
        assert!(all_finite(&values));
        assert!(all_finite(&[]));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, 255, 256, 999] {
                let mut v = values.clone();
                v[at] = bad;
                assert!(!all_finite(&v), "{bad} at {at}");
            }
        }
    }

    #[test]
    fn the_embedded_weight_table_is_read_in_place() {
        let model = Model::embedded().unwrap();
        if cfg!(target_endian = "little") {
            let Weights::Static(w) = &model.table.weights else {
                panic!("the embedded table was copied");
            };
            // The very bytes of the embedded file.
            let file = DEFAULT_MODEL.0.as_ptr_range();
            assert!(file.contains(&w.as_ptr().cast::<u8>()));
        }
        // Copied, as from any other byte slice, it is the same model.
        assert_eq!(Model::from_bytes(&DEFAULT_MODEL.0).unwrap(), model);
    }

    #[test]
    fn class_biases_shift_the_tone_logits() {
        let text = "thanks, what a lovely story";
        let plain = Moderator::new(tiny_tone_model(None)).unwrap();
        let zero = Moderator::new(tiny_tone_model(Some(vec![0.0; 3]))).unwrap();
        let (p, z) = (plain.score(text), zero.score(text));
        assert_eq!(
            p.tone().unwrap().probabilities,
            z.tone().unwrap().probabilities
        );
        assert_eq!(p.tone().unwrap().top().0, "joy");
        // A bias b on a class multiplies its odds by exp(b / t).
        let biased = Moderator::new(tiny_tone_model(Some(vec![0.0, 0.0, 40.0]))).unwrap();
        let b = biased.score(text);
        let (pp, bp) = (p.tone().unwrap(), b.tone().unwrap());
        assert_eq!(bp.top().0, "fear");
        let odds = |h: &HeadScore<'_>| h.probabilities[2] / h.probabilities[0];
        let ratio = odds(&bp) / odds(&pp);
        assert!((ratio.ln() - 40.0 / 0.5).abs() < 1e-6, "{ratio}");
        assert!((bp.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Other heads are untouched.
        assert_eq!(p.incivility(), b.incivility());
    }

    #[test]
    fn class_biases_are_checked() {
        let bad = [
            vec![0.0; 2],
            vec![0.0, f64::NAN, 0.0],
            vec![0.0, f64::INFINITY, 0.0],
        ];
        for b in bad {
            assert!(matches!(
                Moderator::new(tiny_tone_model(Some(b.clone()))),
                Err(Error::InvalidSetting(_))
            ));
        }
        let mut model = tiny_tone_model(None);
        model.heads[0].class_bias = Some(vec![0.0, 1.0]);
        assert!(matches!(model.check(), Err(Error::InvalidSetting(_))));
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Model>();
        check::<Moderator>();
        check::<Verdict>();
        check::<Explanation>();
    }
}
