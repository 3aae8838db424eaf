//! Stage 5: turn scores into a decision a comment backend can act on.
//!
//! A [`Policy`] is a list of [`Rule`]s. Each rule watches the probability of
//! one label of one head ("P(uncivil)", "P(threat)") and asks for review or
//! rejection above its thresholds. The decision is the strictest any rule
//! asks for. The first rule is the main one: its head is reported as a
//! verdict's `incivility`, and the CLI's `--review`/`--reject` flags set its
//! thresholds. Thresholds are stored in the model file and can be overridden.

use crate::error::{Error, Result};
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
    /// [`Error::InvalidSetting`] if there are no rules, a threshold is outside
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
            return Err(Error::InvalidSetting(
                "a policy needs at least one rule".into(),
            ));
        }
        for r in &self.rules {
            for t in [r.review, r.reject].into_iter().flatten() {
                if !(0.0..=1.0).contains(&t) {
                    return Err(Error::InvalidSetting(format!(
                        "thresholds are probabilities in [0, 1], but {}={} has {t}",
                        r.head, r.label
                    )));
                }
            }
            if let (Some(rev), Some(rej)) = (r.review, r.reject) {
                if rej < rev {
                    return Err(Error::InvalidSetting(format!(
                        "the reject threshold ({rej}) of {} is below its review threshold ({rev})",
                        r.head
                    )));
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
        let mut next = self.clone();
        if let Some(r) = review {
            next.rules[0].review = Some(r);
        }
        if let Some(r) = reject {
            next.rules[0].reject = Some(r);
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
        let mut decision = Decision::Allow;
        for (i, r) in self.rules.iter().enumerate() {
            let Some(p) = probability(i) else {
                continue;
            };
            if r.reject.is_some_and(|t| p >= t) {
                return Decision::Reject;
            }
            if r.review.is_some_and(|t| p >= t) {
                decision = Decision::Review;
            }
        }
        decision
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
}
