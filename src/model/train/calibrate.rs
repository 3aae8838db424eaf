//! Calibration: each head's map from scores to probabilities, fitted on
//! its out-of-fold scores, and the description of the trained head.

use super::bias::{argmax, tune_class_bias};
use super::oof::{calibrates, calibration_rows, OutOfFold};
use super::HeadTraining;
use crate::config::TrainingConfig;
use crate::data::Dataset;
use crate::metrics;
use crate::model::calibration::{Calibration, Temperature};
use crate::model::naive_bayes::Head;
use crate::model::params::CalibrationMethod;
use crate::model::HeadSpec;

/// Each head's description and what training did for it: calibration of
/// a binary head, temperature and class biases of a multi-class head,
/// out-of-fold metrics. Heads without out-of-fold scores are left
/// uncalibrated.
pub(super) fn heads(
    config: &TrainingConfig,
    data: &Dataset,
    total: &[Head],
    examples: Vec<Vec<u64>>,
    oof: &[OutOfFold],
) -> (Vec<HeadSpec>, Vec<HeadTraining>) {
    let mut specs = Vec::with_capacity(total.len());
    let mut reports = Vec::with_capacity(total.len());
    for (h, (head, examples)) in total.iter().zip(examples).enumerate() {
        let positive = data.heads[h].positive;
        let mut report = HeadTraining {
            name: head.spec.name.clone(),
            labels: head.spec.labels.clone(),
            examples,
            calibration: None,
            temperature: None,
            class_bias: None,
            oof_roc_auc: None,
            oof_macro_f1: None,
            refine: config.heads[h].refine,
        };
        if !oof[h].rows.is_empty() {
            match positive {
                Some(p) => calibrate_binary(config, h, p, &oof[h], &mut report),
                None => calibrate_classes(config, h, &oof[h], &mut report),
            }
        }
        let mut spec = HeadSpec::of(head, positive);
        spec.calibration.clone_from(&report.calibration);
        spec.temperature = report.temperature;
        spec.class_bias.clone_from(&report.class_bias);
        specs.push(spec);
        reports.push(report);
    }
    (specs, reports)
}

/// A binary head (positive label `p`): its out-of-fold ROC AUC over every
/// row, and its calibration map fitted on the calibration sources' rows.
fn calibrate_binary(
    config: &TrainingConfig,
    h: usize,
    p: usize,
    oof: &OutOfFold,
    report: &mut HeadTraining,
) {
    let weights: Vec<f64> = oof.rows.iter().map(|o| o.weight).collect();
    let scores: Vec<f64> = oof.rows.iter().map(|o| o.score).collect();
    let labels: Vec<bool> = oof.rows.iter().map(|o| o.label == p).collect();
    report.oof_roc_auc = metrics::roc_auc(&scores, &labels);
    let rows = calibration_rows(&oof.rows, p, calibrates(config));
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let (s, w) = (pick(&scores), pick(&weights));
    let l: Vec<bool> = rows.iter().map(|&i| labels[i]).collect();
    let method = config.heads[h]
        .calibration
        .unwrap_or(config.calibration.method);
    report.calibration = match method {
        CalibrationMethod::Platt => Calibration::fit_platt(&s, &l, Some(&w)),
        // Tilted by 1% of a Platt map, so that no two scores tie and the
        // ranking stays that of the scores.
        CalibrationMethod::Isotonic => Calibration::fit_isotonic(&s, &l, Some(&w), 200).map(
            |iso| match Calibration::fit_platt(&s, &l, Some(&w)) {
                Some(platt) => iso.clone().tilted(&platt, 0.01).unwrap_or(iso),
                None => iso,
            },
        ),
    };
}

/// A multi-class head: class biases (if `tune_bias`), the softmax
/// temperature on the biased logits, and the out-of-fold macro-F1.
fn calibrate_classes(
    config: &TrainingConfig,
    h: usize,
    oof: &OutOfFold,
    report: &mut HeadTraining,
) {
    let k = report.labels.len();
    let weights: Vec<f64> = oof.rows.iter().map(|o| o.weight).collect();
    let truth: Vec<usize> = oof.rows.iter().map(|o| o.label).collect();
    let bias = if config.heads[h].tune_bias {
        tune_class_bias(&oof.logits, k, &truth)
    } else {
        vec![0.0; k]
    };
    let adjusted: Vec<f64> = oof
        .logits
        .chunks_exact(k)
        .flat_map(|row| row.iter().zip(&bias).map(|(z, b)| z + b))
        .collect();
    report.temperature = Temperature::fit(&adjusted, k, &truth, Some(&weights));
    let predicted: Vec<usize> = adjusted.chunks_exact(k).map(argmax).collect();
    report.oof_macro_f1 = Some(metrics::ConfusionMatrix::new(&truth, &predicted, k).macro_f1());
    report.class_bias = bias.iter().any(|&b| b != 0.0).then_some(bias);
}
