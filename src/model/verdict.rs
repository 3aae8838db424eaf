//! What scoring returns: a [`Verdict`], the per-head view [`HeadScore`],
//! an [`Explanation`], and the stable JSON the CLI and services print.
//!
//! The verdict holds every label's probability, head by head, and shares
//! the model's [`Layout`] (names, labels, where each head's probabilities
//! sit) with every other verdict of the same moderator.

use super::scorer::Layout;
use crate::policy::{Decision, Fired, Oversize};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use std::ops::Range;
use std::sync::Arc;

/// The scores and decision for one comment.
///
/// Serializes to the stable JSON object the CLI prints:
/// `{"decision", "reasons": [rule names], "incivility", "attributes": {name: p}, "tone": {"label", "scores"}}`,
/// followed by `"truncated": true` only for a comment over the size limit.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub(crate) decision: Decision,
    /// The policy's rules that the comment's probabilities reached.
    pub(crate) fired: Fired,
    /// The names of the policy's rules, shared by every verdict.
    pub(crate) rule_names: Arc<[String]>,
    /// The size limit's policy made the decision stricter.
    pub(crate) size_limited: bool,
    pub(crate) layout: Arc<Layout>,
    /// Probabilities of every label of every head, head by head.
    pub(crate) probs: Vec<f64>,
    /// Uncalibrated log-odds of each binary head (NaN for multi-class).
    pub(crate) raw: Vec<f64>,
    /// Only the beginning of the comment was scored.
    pub(crate) truncated: bool,
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
    /// [`SizeLimit`](crate::SizeLimit) and only its beginning was scored.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Marks the verdict of a comment that was cut to the size limit, and
    /// applies the limit's policy to the decision.
    pub(crate) fn oversized(mut self, oversize: Option<Oversize>) -> Verdict {
        if let Some(policy) = oversize {
            self.truncated = true;
            let decision = policy.apply(self.decision);
            self.size_limited = decision != self.decision;
            self.decision = decision;
        }
        self
    }

    /// Why the decision is what it is: every policy rule the comment
    /// reached, as `RULE.reject` or `RULE.review` (RULE is the rule's
    /// head, e.g. `incivility.review`, `threat.reject`, or `head=label`
    /// for a label other than the head's positive one), in the policy's
    /// order, and `size_limit` when the comment was over the size limit
    /// and that made the decision stricter. Empty when the comment is
    /// allowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::Moderator;
    ///
    /// let moderator = Moderator::embedded()?;
    /// let verdict = moderator.score("You are a pathetic idiot, shut up.");
    /// assert_eq!(verdict.reasons()[0], "incivility.reject");
    /// assert!(moderator.score("Thanks for the clear reporting.").reasons().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons = Vec::new();
        for (i, name) in self.rule_names.iter().enumerate() {
            let bit = 1u64 << i.min(63);
            if self.fired.reject & bit != 0 {
                reasons.push(format!("{name}.reject"));
            } else if self.fired.review & bit != 0 {
                reasons.push(format!("{name}.review"));
            }
        }
        if self.size_limited {
            reasons.push("size_limit".to_string());
        }
        reasons
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
            name: &h.spec.name,
            labels: &h.spec.labels,
            probabilities: &self.probs[h.offset..h.offset + h.spec.labels.len()],
            positive: h.spec.positive.as_deref(),
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
        let i = self.layout.heads.iter().position(|h| h.spec.name == head)?;
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
        let fields = 5 + usize::from(has_other) + usize::from(self.truncated);
        let mut st = s.serialize_struct("Verdict", fields)?;
        st.serialize_field("decision", &self.decision)?;
        st.serialize_field("reasons", &self.reasons())?;
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
