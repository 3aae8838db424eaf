//! The perturbation suite: disguised insults must score like plain ones.
//!
//! Every obfuscation family of `civility::perturb` is applied to the two
//! words of each validation comment that push its incivility score up the
//! most, and the embedded default model must keep its ranking and scores
//! (within looser bounds for typos, which nothing undoes).

use crate::util::repo_path;
use civility::data::{Dataset, LoadOptions};
use civility::evaluate::{perturbation_report, Subset};
use civility::Moderator;
use civility::TrainingConfig;

#[test]
fn disguised_insults_score_like_plain_ones() {
    let moderator = Moderator::embedded().unwrap();
    let file = repo_path("training-data/validation.jsonl");
    let config = TrainingConfig::from_files(&[file], "text", &["incivility".to_string()]);
    let data = Dataset::load(&config, &LoadOptions::default()).unwrap();
    let report = perturbation_report(&moderator, &data, Subset::All, 0).unwrap();
    assert!(report.positives > 50, "too few uncivil comments to measure");
    for row in &report.families {
        let auc_change = row.roc_auc_change.unwrap();
        // Masks on unknown words again: measured -0.020 on the default
        // model (-0.017 before its weights were refined; the refined model
        // still ranks masked comments better, 0.891 against 0.884).
        // Typos are not undone: only the character n-grams the typo left
        // whole carry the word. Measured: swapped -0.050, dropped -0.012,
        // doubled -0.013.
        let typo = ["swapped", "dropped", "doubled"].contains(&row.family.as_str());
        let allowed_auc_fall = match row.family.as_str() {
            "masked" => 0.025,
            _ if typo => 0.06,
            _ => 0.02,
        };
        assert!(
            auc_change >= -allowed_auc_fall,
            "{}: ROC AUC fell by {:.3}",
            row.family,
            -auc_change
        );
        // Masks on words the normalizer does not know ("path*tic") cannot
        // be restored, only joined; the character n-grams that survive
        // carry part of the score. Measured: -0.160 on the default model.
        // Typos, measured: swapped -0.230, dropped -0.204, doubled -0.154.
        let allowed_fall = match row.family.as_str() {
            "masked" => 0.18,
            _ if typo => 0.25,
            _ => 0.05,
        };
        assert!(
            row.mean_positive_change >= -allowed_fall,
            "{}: mean uncivil score fell by {:.3}",
            row.family,
            -row.mean_positive_change
        );
        assert!(
            row.mean_negative_change <= 0.05,
            "{}: mean civil score rose by {:.3}",
            row.family,
            row.mean_negative_change
        );
    }
}
