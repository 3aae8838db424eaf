//! Stage 5: turn scores into a decision a comment backend can act on.
//!
//! A [`Policy`] is a list of [`Rule`]s. Each rule watches the probability of
//! one label of one head ("P(uncivil)", "P(threat)") and asks for review or
//! rejection above its thresholds. The decision is the strictest any rule
//! asks for. The first rule is the main one: its head is reported as a
//! verdict's `incivility`, and the CLI's `--review`/`--reject` flags set its
//! thresholds. Thresholds are stored in the model file and can be overridden.

use crate::error::{Result, SettingError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What to do with a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Publish.
    Allow,
    /// Hold for a human moderator.
    Review,
    /// Reject.
    Reject,
}

impl Decision {
    /// The lower-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Review => "review",
            Decision::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One threshold rule: `P(head = label) >= review` asks for review,
/// `>= reject` asks for rejection. A missing threshold never fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The head whose probability the rule reads.
    pub head: String,
    /// The label of that head (for binary heads, the positive label).
    pub label: String,
    /// Review at or above this probability.
    #[serde(default)]
    pub review: Option<f64>,
    /// Reject at or above this probability.
    #[serde(default)]
    pub reject: Option<f64>,
}

/// Scores to decisions.
///
/// # Examples
///
/// ```
/// use civility::{Decision, Policy, Rule};
///
/// let policy = Policy::new(vec![Rule {
///     head: "incivility".into(),
///     label: "uncivil".into(),
///     review: Some(0.5),
///     reject: Some(0.9),
/// }])?;
/// assert_eq!(policy.decide(|_, _| Some(0.7)), Decision::Review);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The rules; the first is the main one.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// A checked policy.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`](crate::Error::InvalidSetting) if there are no rules, a threshold is outside
    /// [0, 1], or a rule's reject threshold is below its review threshold.
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let policy = Policy { rules };
        policy.validate()?;
        Ok(policy)
    }

    /// Checks the thresholds.
    ///
    /// # Errors
    ///
    /// See [`Policy::new`].
    pub fn validate(&self) -> Result<()> {
        if self.rules.is_empty() {
            return Err(SettingError::NoRules.into());
        }
        for r in &self.rules {
            for t in [r.review, r.reject].into_iter().flatten() {
                if !(0.0..=1.0).contains(&t) {
                    return Err(SettingError::range(
                        format!("the thresholds of {}={}", r.head, r.label),
                        "probabilities in [0, 1]",
                        t,
                    )
                    .into());
                }
            }
            if let (Some(rev), Some(rej)) = (r.review, r.reject) {
                if rej < rev {
                    return Err(SettingError::ThresholdOrder {
                        head: r.head.clone(),
                        review: rev,
                        reject: rej,
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// The main rule.
    pub fn main_rule(&self) -> &Rule {
        &self.rules[0]
    }

    /// Overrides the main rule's thresholds (`None` keeps the current value).
    ///
    /// # Errors
    ///
    /// See [`Policy::new`]; on error the policy is unchanged.
    pub fn set_thresholds(&mut self, review: Option<f64>, reject: Option<f64>) -> Result<()> {
        self.set_rule_thresholds(0, review, reject)
    }

    /// As [`Policy::set_thresholds`], for rule `rule` of [`Policy::rules`].
    ///
    /// # Errors
    ///
    /// As [`Policy::set_thresholds`], and
    /// [`SettingError::OutOfRange`](crate::SettingError::OutOfRange) if
    /// there is no such rule.
    pub fn set_rule_thresholds(
        &mut self,
        rule: usize,
        review: Option<f64>,
        reject: Option<f64>,
    ) -> Result<()> {
        if rule >= self.rules.len() {
            return Err(SettingError::range(
                "the rule",
                format!("below {}", self.rules.len()),
                rule,
            )
            .into());
        }
        let mut next = self.clone();
        if let Some(r) = review {
            next.rules[rule].review = Some(r);
        }
        if let Some(r) = reject {
            next.rules[rule].reject = Some(r);
        }
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// The strictest decision any rule asks for. `probability(head, label)`
    /// returns the score of a label, or `None` when the model has no such
    /// head (the rule is then skipped).
    pub fn decide(&self, probability: impl Fn(&str, &str) -> Option<f64>) -> Decision {
        self.decide_by_rule(|i| probability(&self.rules[i].head, &self.rules[i].label))
    }

    /// As [`Policy::decide`], with the probabilities looked up by the
    /// rule's index in [`Policy::rules`]: for callers that resolved the
    /// rules' heads and labels once.
    pub fn decide_by_rule(&self, probability: impl Fn(usize) -> Option<f64>) -> Decision {
        self.fired(probability).decision()
    }

    /// Which rules' thresholds a comment reaches, with its probabilities
    /// looked up by the rule's index as in [`Policy::decide_by_rule`].
    pub(crate) fn fired(&self, probability: impl Fn(usize) -> Option<f64>) -> Fired {
        let mut fired = Fired::default();
        for (i, r) in self.rules.iter().enumerate() {
            let Some(p) = probability(i) else {
                continue;
            };
            let bit = 1u64 << i.min(63);
            if r.reject.is_some_and(|t| p >= t) {
                fired.reject |= bit;
            } else if r.review.is_some_and(|t| p >= t) {
                fired.review |= bit;
            }
        }
        fired
    }
}

/// The rules whose thresholds a comment reached: bit `i` of `reject` is
/// set when rule `i` asks for rejection, of `review` when it asks for
/// review only (rules past the 64th share the last bit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Fired {
    pub review: u64,
    pub reject: u64,
}

impl Fired {
    /// The strictest decision a rule asks for.
    pub fn decision(self) -> Decision {
        if self.reject != 0 {
            Decision::Reject
        } else if self.review != 0 {
            Decision::Review
        } else {
            Decision::Allow
        }
    }
}

/// The longest comment that is scored in full, and what happens to a longer
/// one. Whatever the policy, only the first `max_bytes` bytes of an
/// oversized comment are scored (cut back to a character boundary, and to
/// the last whitespace if one is near), so the cost of scoring is bounded;
/// the verdict says it was truncated ([`Verdict::truncated`]).
///
/// | field | default | purpose |
/// |---|---|---|
/// | `max_bytes` | 65,536 (64 KiB) | longest comment scored in full, in bytes of UTF-8 |
/// | `on_oversize` | [`Oversize::Truncate`] | what a longer comment's decision becomes |
///
/// News comment forms cap comments at a few thousand characters, so the
/// default leaves every real comment alone and stops a pasted book or a
/// hostile megabyte from costing more than 64 KiB of scoring. A limit of 0
/// makes every non-empty comment oversized.
///
/// [`Verdict::truncated`]: crate::Verdict::truncated
///
/// # Examples
///
/// ```
/// use civility::{Decision, Moderator, Oversize, SizeLimit};
///
/// let mut moderator = Moderator::embedded()?;
/// assert_eq!(moderator.size_limit(), Some(SizeLimit::default()));
/// moderator.set_size_limit(Some(SizeLimit::new(100, Oversize::Review)));
/// let verdict = moderator.score(&"Thanks for the article. ".repeat(10));
/// assert!(verdict.truncated());
/// assert_eq!(verdict.decision(), Decision::Review);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SizeLimit {
    /// The longest comment scored in full, in bytes.
    pub max_bytes: usize,
    /// What a longer comment's decision becomes.
    pub on_oversize: Oversize,
}

/// What happens to a comment longer than its [`SizeLimit`]. Its first
/// `max_bytes` bytes are scored in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Oversize {
    /// Decide on the scored part alone.
    Truncate,
    /// As `Truncate`, but hold at least for review: nobody has read the rest.
    Review,
    /// Reject, whatever the scored part says.
    Reject,
}

impl Oversize {
    /// The decision for an oversized comment whose scored part got
    /// `decision`.
    pub fn apply(self, decision: Decision) -> Decision {
        match self {
            Oversize::Truncate => decision,
            Oversize::Review => decision.max(Decision::Review),
            Oversize::Reject => Decision::Reject,
        }
    }
}

/// How far back from the limit a cut looks for whitespace, in bytes: a
/// word cut in half would score as a different word.
const WHITESPACE_LOOKBACK: usize = 64;

impl SizeLimit {
    /// The default limit: 64 KiB.
    pub const DEFAULT_MAX_BYTES: usize = 64 * 1024;

    /// A limit of `max_bytes` with the given policy.
    pub fn new(max_bytes: usize, on_oversize: Oversize) -> Self {
        SizeLimit {
            max_bytes,
            on_oversize,
        }
    }

    /// The part of `text` that is scored: all of it if it fits (`None`),
    /// else its first `max_bytes` bytes at most, ending on a character
    /// boundary and, unless the cut already falls next to whitespace, just
    /// before the last whitespace in the final 64 bytes if there is one. Takes constant time, whatever the length of `text`.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::{Oversize, SizeLimit};
    ///
    /// let limit = SizeLimit::new(12, Oversize::Truncate);
    /// assert_eq!(limit.cut("short"), None);
    /// assert_eq!(limit.cut("one two three four"), Some("one two"));
    /// assert_eq!(limit.cut("ééééééééé"), Some("éééééé"));
    /// ```
    pub fn cut<'a>(&self, text: &'a str) -> Option<&'a str> {
        if text.len() <= self.max_bytes {
            return None;
        }
        let mut end = self.max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let (head, rest) = text.split_at(end);
        if head.ends_with(char::is_whitespace) || rest.starts_with(char::is_whitespace) {
            return Some(head);
        }
        let mut from = end.saturating_sub(WHITESPACE_LOOKBACK);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        let tail = &text[from..end];
        let end = match tail.rfind(char::is_whitespace) {
            Some(i) if from + i > 0 => from + i,
            _ => end,
        };
        Some(&text[..end])
    }
}

impl Default for SizeLimit {
    fn default() -> Self {
        SizeLimit::new(SizeLimit::DEFAULT_MAX_BYTES, Oversize::Truncate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::new(vec![
            Rule {
                head: "incivility".into(),
                label: "uncivil".into(),
                review: Some(0.5),
                reject: Some(0.9),
            },
            Rule {
                head: "threat".into(),
                label: "true".into(),
                review: Some(0.3),
                reject: None,
            },
        ])
        .unwrap()
    }

    #[test]
    fn invalid_policies_say_what_is_wrong() {
        use crate::error::{Error, SettingError};
        let rule = |review, reject| Rule {
            head: "incivility".into(),
            label: "uncivil".into(),
            review,
            reject,
        };
        assert!(matches!(
            Policy::new(vec![]),
            Err(Error::InvalidSetting(SettingError::NoRules))
        ));
        assert!(matches!(
            Policy::new(vec![rule(Some(0.8), Some(0.4))]),
            Err(Error::InvalidSetting(SettingError::ThresholdOrder { review, reject, .. }))
                if review == 0.8 && reject == 0.4
        ));
        assert!(matches!(
            Policy::new(vec![rule(Some(1.5), None)]),
            Err(Error::InvalidSetting(SettingError::OutOfRange { .. }))
        ));
    }

    #[test]
    fn strictest_rule_wins() {
        let p = policy();
        let scores = |inc: f64, thr: f64| {
            move |h: &str, _: &str| Some(if h == "incivility" { inc } else { thr })
        };
        assert_eq!(p.decide(scores(0.1, 0.1)), Decision::Allow);
        assert_eq!(p.decide(scores(0.5, 0.1)), Decision::Review);
        assert_eq!(p.decide(scores(0.1, 0.4)), Decision::Review);
        assert_eq!(p.decide(scores(0.95, 0.0)), Decision::Reject);
        assert_eq!(p.decide(|_, _| None), Decision::Allow);
    }

    #[test]
    fn override_is_checked() {
        let mut p = policy();
        assert!(p.set_thresholds(Some(0.95), None).is_err());
        assert_eq!(p.main_rule().review, Some(0.5));
        p.set_thresholds(Some(0.2), Some(0.3)).unwrap();
        assert_eq!(p.main_rule().reject, Some(0.3));
        assert!(p.set_thresholds(None, Some(1.5)).is_err());
    }

    #[test]
    fn oversize_raises_the_decision() {
        use Decision::*;
        let cases = [
            (Oversize::Truncate, [Allow, Review, Reject]),
            (Oversize::Review, [Review, Review, Reject]),
            (Oversize::Reject, [Reject, Reject, Reject]),
        ];
        for (policy, expected) in cases {
            for (d, e) in [Allow, Review, Reject].into_iter().zip(expected) {
                assert_eq!(policy.apply(d), e, "{policy:?} {d:?}");
            }
        }
    }

    /// (max_bytes, text, the part scored or `None` if it fits)
    const CUTS: &[(usize, &str, Option<&str>)] = &[
        (5, "", None),
        (5, "hello", None),
        (0, "a", Some("")),
        (0, "", None),
        (4, "hello", Some("hell")),
        (8, "hi there you", Some("hi there")),
        (7, "hi there you", Some("hi")),
        (9, "hi there you", Some("hi there ")),
        (3, "a bc", Some("a")),
        (3, " abc", Some(" ab")),
        (4, "éé", None),
        (2, "éé", Some("é")),
        (3, "éé", Some("é")),
        (1, "é", Some("")),
        (4, "a😀", Some("a")),
        (5, "a😀b", Some("a😀")),
        (7, "ab\u{3000}cdef", Some("ab")),
    ];

    #[test]
    fn cut_table() {
        for &(max, text, expected) in CUTS {
            let cut = SizeLimit::new(max, Oversize::Truncate).cut(text);
            assert_eq!(cut, expected, "{max} {text:?}");
            if let Some(c) = cut {
                assert!(c.len() <= max && text.starts_with(c));
            }
        }
    }

    #[test]
    fn cut_looks_back_for_whitespace_only_so_far() {
        let word = "x".repeat(200);
        let text = format!("a {word}");
        let cut = SizeLimit::new(150, Oversize::Truncate).cut(&text).unwrap();
        assert_eq!(cut.len(), 150);
        let text = format!("{} {word}", "y".repeat(100));
        let cut = SizeLimit::new(150, Oversize::Truncate).cut(&text).unwrap();
        assert_eq!(cut.len(), 100);
    }
}
