//! Stage 4: the model — naive Bayes heads, their training, the model file
//! and scoring.
//!
//! | file | what it holds |
//! |---|---|
//! | `naive_bayes.rs` | a head's counts ([`Head`]) and the weights derived from them |
//! | `params.rs` | a head's training hyperparameters, as a configuration gives them |
//! | `head.rs` | a trained head as the model stores it ([`HeadSpec`]) |
//! | `table.rs` | the weight table every head scores with |
//! | `refine.rs`, `calibration/` | refined weights; scores to probabilities |
//! | `train/` | training, step by step |
//! | `file/` | the model file: the container and one reader per format |
//! | `scorer.rs` | [`Moderator`]: a model made ready to score |
//! | `verdict.rs` | [`Verdict`] and [`Explanation`], and their JSON |
//!
//! A [`Model`] is what a model file holds: the pipeline configuration, one
//! [`HeadSpec`] per question with its calibration, the policy, and one
//! compact table of scoring weights for every head. Training keeps each
//! head's counts; the table is derived from them once, when training ends,
//! and stored, so loading a model is a copy (or, for the embedded model,
//! nothing at all: the table is read in place). A [`Moderator`] is a model
//! made ready to score: the pipeline built and the policy's rules resolved
//! to positions in the verdict.

pub mod calibration;
mod file;
mod head;
#[cfg(feature = "linfa")]
pub(crate) mod linfa;
pub mod naive_bayes;
#[cfg(feature = "train")]
pub mod params;
#[cfg(feature = "train")]
pub(crate) mod refine;
mod scorer;
mod table;
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub mod train;
mod verdict;

use crate::error::{Error, Result, SettingError};
use crate::pipeline::PipelineConfig;
use crate::policy::Policy;
use std::io::Read;
use std::path::Path;
use table::Table;

pub use file::{FORMAT_VERSION, OLDEST_SUPPORTED_VERSION};
pub use head::HeadSpec;
pub use scorer::Moderator;
pub use verdict::{Evidence, Explanation, HeadScore, Verdict};

/// Bytes aligned for reading `f32`s in place.
#[repr(C, align(64))]
struct Aligned<B: ?Sized>(B);

/// The default model, trained from public corpora and our own comments
/// (see `models/README.md`), embedded in the library. Its weight table
/// starts at a multiple of 64 bytes into the file, so with this alignment
/// it is used where it lies.
static DEFAULT_MODEL: &Aligned<[u8]> = &Aligned(*include_bytes!("../../models/default.civ"));

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
    pub(crate) heads: Vec<HeadSpec>,
    pub(crate) policy: Policy,
    pub(crate) metadata: serde_json::Value,
    pub(crate) table: Table,
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
    /// [`Error::Write`] if writing fails.
    pub fn write_to(&self, writer: impl std::io::Write) -> Result<()> {
        file::write(self, writer)
    }

    /// The pipeline the model was trained with.
    pub fn pipeline(&self) -> &PipelineConfig {
        &self.pipeline
    }

    /// The heads, in output order.
    pub fn heads(&self) -> impl Iterator<Item = &HeadSpec> {
        self.heads.iter()
    }

    /// The stored policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Sets the stored policy's main review and reject thresholds (`None`
    /// keeps the current value), as [`crate::Moderator::set_thresholds`]
    /// does for scoring, so that [`Model::save`] writes them.
    ///
    /// # Examples
    ///
    /// ```
    /// use civility::Model;
    ///
    /// let mut model = Model::embedded()?;
    /// model.set_thresholds(Some(0.4), None)?;
    /// assert_eq!(model.policy().main_rule().review, Some(0.4));
    /// assert!(model.set_thresholds(Some(1.5), None).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] if a threshold is outside [0, 1] or reject
    /// falls below review; the policy is then unchanged.
    pub fn set_thresholds(&mut self, review: Option<f64>, reject: Option<f64>) -> Result<()> {
        self.policy.set_thresholds(review, reject)
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
        if !table::all_finite(&self.table.weights) {
            return Err(SettingError::NonFinite.into());
        }
        Ok(())
    }

    /// Checks everything but the values of the weight table: each head
    /// ([`HeadSpec::check`]), the table's shape, the heads' constant
    /// terms, and that the policy refers to heads and labels the model has.
    pub(crate) fn check_settings(&self) -> Result<()> {
        if self.heads.is_empty() {
            return Err(SettingError::NoHeads.into());
        }
        self.policy.validate()?;
        for rule in &self.policy.rules {
            let head = self
                .heads
                .iter()
                .find(|h| h.name == rule.head)
                .ok_or_else(|| SettingError::UnknownHead {
                    head: rule.head.clone(),
                })?;
            if !head.labels.contains(&rule.label) {
                return Err(SettingError::UnknownLabel {
                    head: rule.head.clone(),
                    label: rule.label.clone(),
                }
                .into());
            }
        }
        let stride: usize = self.heads.iter().map(HeadSpec::columns).sum();
        let n_features = self.heads[0].n_features;
        if self.table.stride != stride
            || self.table.weights.len() != n_features.saturating_mul(stride)
            || self.heads.iter().any(|h| h.bias.len() != h.columns())
        {
            return Err(
                SettingError::Mismatch("the weight table does not match the heads".into()).into(),
            );
        }
        self.heads.iter().try_for_each(HeadSpec::check)
    }
}

/// A small model with a binary head and a three-label `tone` head, for
/// the unit tests of this module and of the file format.
#[cfg(test)]
pub(crate) fn tiny_tone_model(class_bias: Option<Vec<f64>>) -> Model {
    use crate::pipeline::Pipeline;
    use crate::policy::Rule;
    use naive_bayes::Head;
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
    let mut tone_spec = HeadSpec::of(&tone, None);
    tone_spec.temperature = Some(calibration::Temperature { t: 0.5 });
    tone_spec.class_bias = class_bias;
    let mut heads = vec![HeadSpec::of(&binary, Some(1)), tone_spec];
    let policy = Policy::new(vec![Rule {
        head: "incivility".into(),
        label: "uncivil".into(),
        review: Some(0.5),
        reject: Some(0.9),
    }])
    .unwrap();
    let table = Table::from_counts(&mut heads, &[binary, tone]).unwrap();
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
    use table::{all_finite, Weights};

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
