//! The policy: the configuration's, or a default one, with the
//! thresholds of the main rule (and of the other rules named in
//! `[thresholds.heads]`) chosen for the configured targets on out-of-fold
//! probabilities.

use super::oof::{calibrates, calibration_rows, OofRow, OutOfFold};
use super::ChosenThresholds;
use crate::config::{Targets, TrainingConfig};
use crate::error::{Result, SettingError};
use crate::metrics;
use crate::model::calibration;
use crate::model::HeadSpec;
use crate::policy::{Policy, Rule};
use std::collections::BTreeMap;

/// The thresholds chosen for the `[thresholds]` targets: the main
/// rule's, and those of the rules of the heads `[thresholds.heads]` names.
#[derive(Debug, Default)]
pub(super) struct Chosen {
    pub main: Option<ChosenThresholds>,
    pub heads: BTreeMap<String, ChosenThresholds>,
}

/// The model's policy, and the thresholds chosen for the `[thresholds]`
/// targets, if any.
pub(super) fn policy(
    config: &TrainingConfig,
    heads: &[HeadSpec],
    oof: &[OutOfFold],
) -> Result<(Policy, Chosen)> {
    let mut policy = match &config.policy {
        Some(p) => p.clone(),
        None => default_policy(heads)?,
    };
    let mut chosen = Chosen::default();
    let Some(targets) = &config.thresholds else {
        return Ok((policy, chosen));
    };
    chosen.main = choose_for(config, &mut policy, 0, &targets.main(), heads, oof)?;
    if targets.allow_no_evidence {
        if let Some(main) = chosen.main.as_mut() {
            main.no_evidence = allow_no_evidence(&mut policy, heads)?;
        }
    }
    for (head, targets) in &targets.heads {
        let rule = policy
            .rules
            .iter()
            .position(|r| r.head == *head)
            .filter(|&r| r > 0)
            .ok_or_else(|| {
                SettingError::Mismatch(format!(
                    "thresholds.heads.{head}: the policy has no rule for head {head:?} \
                     besides the main rule (whose targets are [thresholds] itself)"
                ))
            })?;
        if let Some(c) = choose_for(config, &mut policy, rule, targets, heads, oof)? {
            chosen.heads.insert(head.clone(), c);
        }
    }
    Ok((policy, chosen))
}

/// Chooses the thresholds of rule `r` of `policy` for `targets` on its
/// head's out-of-fold probabilities, and sets them. `None` for a rule
/// whose head is not binary.
fn choose_for(
    config: &TrainingConfig,
    policy: &mut Policy,
    r: usize,
    targets: &Targets,
    heads: &[HeadSpec],
    oof: &[OutOfFold],
) -> Result<Option<ChosenThresholds>> {
    let rule = policy.rules[r].clone();
    let h = heads
        .iter()
        .position(|x| x.name == rule.head)
        .ok_or_else(|| SettingError::UnknownHead {
            head: rule.head.clone(),
        })?;
    let head = &heads[h];
    let label = head.labels.iter().position(|l| *l == rule.label);
    let (Some(p), Some(label)) = (head.positive(), label) else {
        return Ok(None);
    };
    // Out-of-fold probabilities of the rows the calibration map was fitted
    // on: a threshold is a calibrated probability, so it is chosen where
    // the calibration holds. (Calibration sources without positive
    // comments would leave no recall to meet.)
    let rows: Vec<&OofRow> = calibration_rows(&oof[h].rows, p, calibrates(config))
        .into_iter()
        .map(|i| &oof[h].rows[i])
        .collect();
    let probs: Vec<f64> = rows
        .iter()
        .map(|o| {
            let q = head
                .calibration
                .as_ref()
                .map_or_else(|| calibration::sigmoid(o.score), |c| c.apply(o.score));
            if label == p {
                q
            } else {
                1.0 - q
            }
        })
        .collect();
    let truth: Vec<bool> = rows.iter().map(|o| o.label == label).collect();
    let (review, reject) = choose(targets, &rule, &probs, &truth);
    policy.set_rule_thresholds(r, review, reject)?;
    Ok(Some(ChosenThresholds {
        review,
        reject,
        comments: rows.len() as u64,
        no_evidence: None,
    }))
}

/// Raises the main rule's review threshold (and reject with it, if it
/// would fall below) to just above the probability a comment without
/// evidence gets: the head's constant term through its calibration. Such a
/// comment ("", ".", a word the model never saw) scores its head's prior,
/// which on a balanced data set sits among the comments the model is least
/// sure of, where a threshold chosen for recall can fall. Returns that
/// probability if the threshold was raised.
fn allow_no_evidence(policy: &mut Policy, heads: &[HeadSpec]) -> Result<Option<f64>> {
    let rule = policy.main_rule().clone();
    let Some(head) = heads.iter().find(|h| h.name == rule.head) else {
        return Ok(None);
    };
    let (Some(p), Some(&bias)) = (head.positive(), head.bias.first()) else {
        return Ok(None);
    };
    let q = head
        .calibration
        .as_ref()
        .map_or_else(|| calibration::sigmoid(bias), |c| c.apply(bias));
    let nothing = if head.labels[p] == rule.label {
        q
    } else {
        1.0 - q
    };
    match rule.review {
        Some(review) if review <= nothing && nothing < 1.0 => {
            let raised = (nothing + 1e-9).min(1.0);
            let reject = rule.reject.filter(|&r| r < raised).map(|_| raised);
            policy.set_thresholds(Some(raised), reject)?;
            Ok(Some(nothing))
        }
        _ => Ok(None),
    }
}

/// The review and reject thresholds that meet `targets` on `probs`
/// against `truth`, kept consistent with the values of `rule` in force.
fn choose(
    targets: &Targets,
    rule: &Rule,
    probs: &[f64],
    truth: &[bool],
) -> (Option<f64>, Option<f64>) {
    let review = targets
        .review_recall
        .and_then(|r| metrics::threshold_for_recall(probs, truth, r));
    // A threshold without a target, or whose target cannot be met, keeps
    // the policy's value: the other one is kept consistent with the value
    // in force, not only with a new one.
    let review_in_force = review.or(rule.review);
    let reject = targets
        .reject_precision
        .and_then(|q| metrics::threshold_for_precision(probs, truth, q))
        .map(|r| r.max(review_in_force.unwrap_or(0.0)))
        .or(match (review, rule.reject) {
            (Some(new), Some(old)) if old < new => Some(new),
            _ => None,
        });
    (review, reject)
}

/// Review at P ≥ 0.5 and reject at P ≥ 0.9 on the first binary head.
fn default_policy(heads: &[HeadSpec]) -> Result<Policy> {
    let main = heads
        .iter()
        .find(|h| h.positive.is_some())
        .or_else(|| heads.first())
        .ok_or(SettingError::NoHeads)?;
    let label = main.labels[main.positive().unwrap_or(0)].clone();
    Policy::new(vec![Rule {
        head: main.name.clone(),
        label,
        review: Some(0.5),
        reject: Some(0.9),
    }])
}
