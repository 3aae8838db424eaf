//! Measuring a model on labelled comments: what `civility eval` reports.
//!
//! Per binary head: ROC AUC, PR AUC (average precision), precision, recall
//! and F1 at the policy threshold, the confusion matrix, and the expected
//! calibration error. Per multi-class head: macro-F1, accuracy, per-class
//! F1 and the confusion matrix. Heads are matched to the data by name and
//! labels by their text, so a model can be evaluated on any data whose
//! configuration labels some of its heads.
//!
//! [`judge`] measures something else: how often the model's decision is
//! the one a moderator took, on a file of [`Judgement`]s.

mod judgements;

pub use judgements::{
    judge, read_judgements, CategoryAgreement, Disagreement, Judgement, JudgementReport, DECISIONS,
    NO_CATEGORY,
};

use crate::data::{Dataset, Part};
use crate::metrics::{self, BinaryConfusion, ConfusionMatrix, ReliabilityBin};
use crate::model::{Moderator, Verdict};
use crate::policy::Decision;
use serde::Serialize;

/// Which comments of a dataset to evaluate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// Every comment.
    All,
    /// Only the held-out part of the split.
    Holdout,
    /// Only the training part.
    Train,
}

impl Subset {
    /// Whether comments of this part of the split belong to the subset.
    pub fn contains(self, part: Part) -> bool {
        match self {
            Subset::All => true,
            Subset::Holdout => part == Part::Holdout,
            Subset::Train => part == Part::Train,
        }
    }
}

/// Results for a binary head.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryReport {
    /// The positive label.
    pub positive: String,
    /// Positive comments.
    pub positives: u64,
    /// ROC AUC of P(positive).
    pub roc_auc: Option<f64>,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: Option<f64>,
    /// The decision threshold used for the counts below.
    pub threshold: f64,
    /// Precision at the threshold.
    pub precision: f64,
    /// Recall at the threshold.
    pub recall: f64,
    /// F1 at the threshold.
    pub f1: f64,
    /// Confusion counts at the threshold.
    pub confusion: BinaryConfusion,
    /// Expected calibration error over 10 equal-width bins.
    pub ece: Option<f64>,
    /// Reliability diagram data.
    pub reliability: Vec<ReliabilityBin>,
    /// ROC curve points (fpr, tpr, threshold).
    #[serde(skip)]
    pub roc_curve: Vec<(f64, f64, f64)>,
    /// Precision-recall curve points (recall, precision, threshold).
    #[serde(skip)]
    pub pr_curve: Vec<(f64, f64, f64)>,
}

/// Results for a multi-class head.
#[derive(Debug, Clone, Serialize)]
pub struct MultiReport {
    /// Macro-averaged F1.
    pub macro_f1: f64,
    /// Accuracy.
    pub accuracy: f64,
    /// F1 of each label.
    pub per_label_f1: Vec<f64>,
    /// Rows: true label, columns: predicted label.
    pub confusion: ConfusionMatrix,
}

/// Results for one head.
#[derive(Debug, Clone, Serialize)]
pub struct HeadEvaluation {
    /// The head.
    pub name: String,
    /// The model's labels for it.
    pub labels: Vec<String>,
    /// Comments labelled for this head.
    pub n: u64,
    /// Binary results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryReport>,
    /// Multi-class results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiclass: Option<MultiReport>,
}

/// What `civility eval` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Comments scored.
    pub comments: u64,
    /// How many comments got each decision (allow, review, reject).
    pub decisions: [u64; 3],
    /// Per head the data labels and the model has.
    pub heads: Vec<HeadEvaluation>,
    /// Heads labelled in the data that the model does not have.
    pub missing_heads: Vec<String>,
}

/// Scores the chosen comments of `data` with `moderator` on `threads`
/// threads (0 = all cores) and measures every head.
pub fn evaluate(
    moderator: &Moderator,
    data: &Dataset,
    subset: Subset,
    threads: usize,
) -> Evaluation {
    let examples: Vec<_> = data
        .examples
        .iter()
        .filter(|e| subset.contains(e.part))
        .collect();
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let verdicts = score_parallel(moderator, &texts, threads);
    let mut decisions = [0u64; 3];
    for v in &verdicts {
        decisions[match v.decision() {
            Decision::Allow => 0,
            Decision::Review => 1,
            Decision::Reject => 2,
        }] += 1;
    }
    let model = moderator.model();
    let policy = moderator.policy();
    let mut heads = Vec::new();
    let mut missing_heads = Vec::new();
    for (hi, data_head) in data.heads.iter().enumerate() {
        let Some(model_head) = model.heads().find(|h| h.name() == data_head.name) else {
            missing_heads.push(data_head.name.clone());
            continue;
        };
        let labels = model_head.labels().to_vec();
        // (model label index, verdict index) of every labelled comment.
        let rows: Vec<(usize, usize)> = examples
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let l = &data_head.labels[usize::from(e.labels[hi]?)];
                Some((labels.iter().position(|x| x == l)?, i))
            })
            .collect();
        let mut report = HeadEvaluation {
            name: data_head.name.clone(),
            labels: labels.clone(),
            n: rows.len() as u64,
            binary: None,
            multiclass: None,
        };
        if rows.is_empty() {
            heads.push(report);
            continue;
        }
        let scores_of = |i: usize| -> Vec<f64> {
            verdicts[i]
                .head(&data_head.name)
                .map(|h| h.probabilities.to_vec())
                .unwrap_or_default()
        };
        let first = verdicts[rows[0].1].head(&data_head.name);
        match first.and_then(|h| h.positive) {
            Some(positive) => {
                let p = labels.iter().position(|l| l == positive).unwrap_or(1);
                let scores: Vec<f64> = rows.iter().map(|&(_, i)| scores_of(i)[p]).collect();
                let truth: Vec<bool> = rows.iter().map(|&(c, _)| c == p).collect();
                let threshold = policy
                    .rules
                    .iter()
                    .find(|r| r.head == data_head.name && r.label == positive)
                    .and_then(|r| r.review.or(r.reject))
                    .unwrap_or(0.5);
                let confusion = BinaryConfusion::at_threshold(&scores, &truth, threshold);
                report.binary = Some(BinaryReport {
                    positive: positive.to_string(),
                    positives: truth.iter().filter(|&&t| t).count() as u64,
                    roc_auc: metrics::roc_auc(&scores, &truth),
                    pr_auc: metrics::average_precision(&scores, &truth),
                    threshold,
                    precision: confusion.precision(),
                    recall: confusion.recall(),
                    f1: confusion.f1(),
                    confusion,
                    ece: metrics::expected_calibration_error(&scores, &truth, 10),
                    reliability: metrics::reliability_bins(&scores, &truth, 10),
                    roc_curve: metrics::roc_curve(&scores, &truth),
                    pr_curve: metrics::pr_curve(&scores, &truth),
                });
            }
            None => {
                let truth: Vec<usize> = rows.iter().map(|&(c, _)| c).collect();
                let predicted: Vec<usize> = rows
                    .iter()
                    .map(|&(_, i)| {
                        let s = scores_of(i);
                        (0..s.len()).fold(0, |best, j| if s[j] > s[best] { j } else { best })
                    })
                    .collect();
                let confusion = ConfusionMatrix::new(&truth, &predicted, labels.len());
                report.multiclass = Some(MultiReport {
                    macro_f1: confusion.macro_f1(),
                    accuracy: confusion.accuracy(),
                    per_label_f1: confusion.per_class_f1(),
                    confusion,
                });
            }
        }
        heads.push(report);
    }
    Evaluation {
        comments: examples.len() as u64,
        decisions,
        heads,
        missing_heads,
    }
}

/// Scores texts on several threads, keeping their order.
pub fn score_parallel(moderator: &Moderator, texts: &[&str], threads: usize) -> Vec<Verdict> {
    let chunks: Vec<&[&str]> = texts.chunks(1024).collect();
    crate::parallel::parallel_map(&chunks, threads, |part| moderator.score_batch(part))
        .into_iter()
        .flatten()
        .collect()
}

/// How one obfuscation family moves the main head's scores.
#[derive(Debug, Clone, Serialize)]
pub struct PerturbationRow {
    /// The family.
    pub family: String,
    /// ROC AUC on the disguised comments.
    pub roc_auc: Option<f64>,
    /// Change of ROC AUC against the clean comments.
    pub roc_auc_change: Option<f64>,
    /// Mean score of the positive (uncivil) comments, disguised.
    pub mean_positive: f64,
    /// Its change against the clean comments.
    pub mean_positive_change: f64,
    /// Mean score of the negative (civil) comments, disguised.
    pub mean_negative: f64,
    /// Its change against the clean comments.
    pub mean_negative_change: f64,
}

/// What `civility eval --perturb` reports.
#[derive(Debug, Clone, Serialize)]
pub struct PerturbationReport {
    /// The head measured (the policy's main head).
    pub head: String,
    /// Comments used.
    pub comments: u64,
    /// Of which positive.
    pub positives: u64,
    /// ROC AUC on the clean comments.
    pub clean_roc_auc: Option<f64>,
    /// Mean positive score, clean.
    pub clean_mean_positive: f64,
    /// Mean negative score, clean.
    pub clean_mean_negative: f64,
    /// One row per family.
    pub families: Vec<PerturbationRow>,
}

/// Disguises, in every [`Family`](crate::perturb::Family) (typos
/// included), the two words of each comment that push the main head's
/// score up the most — the words an evader would target — and measures how
/// the scores move.
pub fn perturbation_report(
    moderator: &Moderator,
    data: &Dataset,
    subset: Subset,
    threads: usize,
) -> Option<PerturbationReport> {
    use crate::perturb::{perturb, Family};
    let main = moderator.policy().main_rule().clone();
    let hi = data.heads.iter().position(|h| h.name == main.head)?;
    let rows: Vec<(&str, bool)> = data
        .examples
        .iter()
        .filter(|e| subset.contains(e.part))
        .filter_map(|e| {
            let l = &data.heads[hi].labels[usize::from(e.labels[hi]?)];
            Some((e.text.as_str(), *l == main.label))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let labels: Vec<bool> = rows.iter().map(|r| r.1).collect();
    let texts: Vec<&str> = rows.iter().map(|r| r.0).collect();
    // The words each comment's own explanation weighs most, on all threads.
    let chunks: Vec<&[&str]> = texts.chunks(256).collect();
    let targets: Vec<Vec<std::ops::Range<usize>>> =
        crate::parallel::parallel_map(&chunks, threads, |part| {
            part.iter()
                .map(|t| {
                    let evidence = moderator.explain(t).evidence;
                    crate::perturb::targets(t, evidence.into_iter().map(|e| (e.span, e.weight)))
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    let scores = |texts: &[&str]| -> Vec<f64> {
        score_parallel(moderator, texts, threads)
            .iter()
            .map(|v| v.probability(&main.head, &main.label).unwrap_or(0.0))
            .collect()
    };
    let means = |s: &[f64]| -> (f64, f64) {
        let mean = |want: bool| {
            let (sum, n) = s
                .iter()
                .zip(&labels)
                .filter(|(_, &l)| l == want)
                .fold((0.0, 0usize), |(a, n), (x, _)| (a + x, n + 1));
            if n == 0 {
                0.0
            } else {
                sum / n as f64
            }
        };
        (mean(true), mean(false))
    };
    let clean = scores(&texts);
    let clean_auc = metrics::roc_auc(&clean, &labels);
    let (clean_pos, clean_neg) = means(&clean);
    let families = Family::ALL
        .iter()
        .map(|&family| {
            let disguised: Vec<String> = texts
                .iter()
                .zip(&targets)
                .map(|(t, words)| perturb(t, words, family))
                .collect();
            let refs: Vec<&str> = disguised.iter().map(String::as_str).collect();
            let s = scores(&refs);
            let auc = metrics::roc_auc(&s, &labels);
            let (pos, neg) = means(&s);
            PerturbationRow {
                family: family.name().to_string(),
                roc_auc: auc,
                roc_auc_change: auc.zip(clean_auc).map(|(a, c)| a - c),
                mean_positive: pos,
                mean_positive_change: pos - clean_pos,
                mean_negative: neg,
                mean_negative_change: neg - clean_neg,
            }
        })
        .collect();
    Some(PerturbationReport {
        head: main.head,
        comments: rows.len() as u64,
        positives: labels.iter().filter(|&&l| l).count() as u64,
        clean_roc_auc: clean_auc,
        clean_mean_positive: clean_pos,
        clean_mean_negative: clean_neg,
        families,
    })
}
