//! Scoring: a [`Moderator`] is a model made ready to score comments.
//!
//! The pipeline is built once and the heads are placed once (a
//! [`Layout`]: where each head's columns are in the weight table and its
//! probabilities in a verdict); scoring a comment is then the pipeline into
//! per-thread scratch buffers, one pass over the weight rows of its
//! features, and each head's calibration. This is the hot path: see the
//! comments on prefetching and [`accumulate`].

use super::calibration::{self, Temperature};
use super::head::HeadSpec;
use super::verdict::{Evidence, Explanation, Verdict};
use super::Model;
use crate::error::{Error, Result, SettingError};
use crate::features::SparseVec;
use crate::pipeline::{Pipeline, Scratch};
use crate::policy::{Oversize, Policy, SizeLimit};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// The policy's rules resolved against the model's heads.
#[derive(Debug, Clone)]
struct Rules {
    /// For each rule, the position of its label's probability in a
    /// verdict.
    slots: Arc<[usize]>,
    /// For each rule, the name its reasons take ([`Verdict::reasons`]).
    names: Arc<[String]>,
}

/// Where each head's numbers sit, shared by every verdict.
#[derive(Debug)]
pub(crate) struct Layout {
    pub heads: Vec<Slot>,
    /// Number of labels of all heads together.
    pub labels: usize,
    /// Index of the head and label of the policy's main rule.
    pub main: (usize, usize),
}

/// One head placed for scoring: the model's description of it, and where
/// its columns and probabilities are.
#[derive(Debug)]
pub(crate) struct Slot {
    pub spec: HeadSpec,
    /// Index of the positive label of a binary head.
    pub positive: Option<usize>,
    /// Offset of the head's probabilities in a verdict.
    pub offset: usize,
    /// First column of the head in the weight table.
    pub column: usize,
    /// Constant terms: one (log-odds) for a binary head, else one per class
    /// (the class biases tuned at training time included).
    pub bias: Vec<f64>,
}

impl Layout {
    /// Places the model's heads: columns and probabilities head by head,
    /// in model order, and the main rule's head and label.
    fn new(model: &Model) -> Result<Layout> {
        let mut heads = Vec::with_capacity(model.heads.len());
        let (mut column, mut offset) = (0, 0);
        for spec in &model.heads {
            let slot = Slot {
                spec: spec.clone(),
                positive: spec.positive(),
                offset,
                column,
                bias: spec.scoring_bias(),
            };
            column += spec.columns();
            offset += spec.labels.len();
            heads.push(slot);
        }
        let main_rule = model.policy.main_rule();
        let main_head = heads
            .iter()
            .position(|h| h.spec.name == main_rule.head)
            .ok_or_else(|| SettingError::UnknownHead {
                head: main_rule.head.clone(),
            })?;
        let main_label = heads[main_head]
            .spec
            .labels
            .iter()
            .position(|l| *l == main_rule.label)
            .ok_or_else(|| SettingError::UnknownLabel {
                head: main_rule.head.clone(),
                label: main_rule.label.clone(),
            })?;
        Ok(Layout {
            labels: offset,
            heads,
            main: (main_head, main_label),
        })
    }
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
    rules: Rules,
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
            return Err(SettingError::Mismatch(format!(
                "the weight table has {} values but the pipeline makes {n_features} features \
                 of {} columns",
                model.table.weights.len(),
                model.table.stride
            ))
            .into());
        }
        let layout = Layout::new(&model)?;
        let rules = layout.resolve(&model.policy)?;
        Ok(Moderator {
            policy: model.policy.clone(),
            model: Arc::new(model),
            pipeline: Arc::new(pipeline),
            layout: Arc::new(layout),
            rules,
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
        let spec = &self.layout.heads[h].spec;
        if main.head != spec.name || main.label != spec.labels[l] {
            return Err(SettingError::Mismatch(
                "the main rule must keep the model's main head and label".into(),
            )
            .into());
        }
        self.rules = self.layout.resolve(&policy)?;
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
        self.pipeline
            .vectorize_into(text, scratch, |f| prefetch(table.row(f)));
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
                let row = table.row(f);
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
            let k = h.spec.labels.len();
            let out = &mut probs[h.offset..h.offset + k];
            match h.positive {
                Some(p) => {
                    let llr = h.bias[0] + sums[h.column];
                    let prob = match &h.spec.calibration {
                        Some(c) => c.apply(llr),
                        None => calibration::sigmoid(llr),
                    };
                    out[p] = prob;
                    out[1 - p] = 1.0 - prob;
                    raw.push(llr);
                }
                None => {
                    let logits = &mut sums[h.column..h.column + k];
                    for (z, b) in logits.iter_mut().zip(&h.bias) {
                        *z += b;
                    }
                    let t = h.spec.temperature.unwrap_or(Temperature { t: 1.0 });
                    t.apply(logits, out);
                    raw.push(f64::NAN);
                }
            }
        }
        let fired = self
            .policy
            .fired(|r| self.rules.slots.get(r).map(|&i| probs[i]));
        Verdict {
            decision: fired.decision(),
            fired,
            rule_names: Arc::clone(&self.rules.names),
            size_limited: false,
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
    /// Resolves each rule of `policy` to the position of its label's
    /// probability in a verdict, and the name its reasons take: its head,
    /// and `head=label` when the label is not the head's positive one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming a rule's head or label that the
    /// model does not have.
    fn resolve(&self, policy: &Policy) -> Result<Rules> {
        let mut slots = Vec::with_capacity(policy.rules.len());
        let mut names = Vec::with_capacity(policy.rules.len());
        for rule in &policy.rules {
            let slot = self.heads.iter().find(|h| h.spec.name == rule.head);
            let label = slot.and_then(|h| h.spec.labels.iter().position(|x| *x == rule.label));
            let (Some(h), Some(l)) = (slot, label) else {
                return Err(SettingError::UnknownLabel {
                    head: rule.head.clone(),
                    label: rule.label.clone(),
                }
                .into());
            };
            slots.push(h.offset + l);
            names.push(if h.positive == Some(l) {
                rule.head.clone()
            } else {
                format!("{}={}", rule.head, rule.label)
            });
        }
        Ok(Rules {
            slots: slots.into(),
            names: names.into(),
        })
    }
}
