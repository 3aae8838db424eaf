//! The values of the fields an older file may lack, frozen per format.
//!
//! Serde's `#[serde(default)]` on a configuration serves new training
//! configurations, where a field left out takes today's default. A model
//! file must keep the meaning it had when it was written, so its reader
//! never relies on that default: before the header is parsed, each field
//! the file lacks is filled with the value files of its format were
//! scored with when they lacked it. A field added to the pipeline or to a
//! head needs its frozen value here for every older format; the tests
//! below fail until it has one.

use serde_json::{json, Value};

/// The pipeline settings a file of format 1 or 2 was scored with where it
/// lacks a field: those of the builds that wrote such files before the
/// field existed (`norm` and `negation` were added to format 1 files, off
/// when absent; `groups` is written only when on).
pub(super) fn pipeline() -> Value {
    json!({
        "normalizer": {
            "nfkc": true,
            "lowercase": true,
            "strip_diacritics": true,
            "confusables": true,
            "leetspeak": true,
            "separators": true,
            "masks": true,
            "max_repeat": 2
        },
        "features": {
            "buckets_log2": 18,
            "word_ngrams": 2,
            "char_min": 3,
            "char_max": 5,
            "char_weight": 0.3,
            "tf": "binary",
            "shape": true,
            "norm": "none",
            "negation": false,
            "groups": false
        }
    })
}

/// The head settings a file of format 1 or 2 was scored with where it
/// lacks a field (`shrink` was added to format 1 files: none when absent).
pub(super) fn head() -> Value {
    json!({ "shrink": 0.0 })
}

/// Fills the header's missing fields with the frozen values `pipeline`
/// and `head` give (nested objects field by field), and a missing
/// `metadata` with null. A value the file has is never changed.
pub(super) fn fill(header: &mut Value, pipeline: &Value, head: &Value) {
    let Some(top) = header.as_object_mut() else {
        return;
    };
    fill_object(top.entry("pipeline").or_insert_with(|| json!({})), pipeline);
    if let Some(Value::Array(heads)) = top.get_mut("heads") {
        for h in heads {
            fill_object(h, head);
        }
    }
    top.entry("metadata").or_insert(Value::Null);
}

fn fill_object(into: &mut Value, frozen: &Value) {
    let (Some(into), Some(frozen)) = (into.as_object_mut(), frozen.as_object()) else {
        return;
    };
    for (key, value) in frozen {
        match into.get_mut(key) {
            None => {
                into.insert(key.clone(), value.clone());
            }
            Some(present) if value.is_object() => fill_object(present, value),
            Some(_) => {}
        }
    }
}

/// Every key path of the objects in `value` (arrays are not entered).
#[cfg(test)]
fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(map) = value.as_object() {
        for (k, v) in map {
            let path = format!("{prefix}/{k}");
            paths(v, &path, out);
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::PipelineConfig;

    #[test]
    fn every_pipeline_field_has_a_frozen_value() {
        // A new field of the pipeline must say what older files meant.
        // Every field on, so that fields written only when on are listed.
        let mut full = PipelineConfig::default();
        full.features.groups = true;
        let current = serde_json::to_value(full).unwrap();
        let (mut want, mut have) = (Vec::new(), Vec::new());
        paths(&current, "", &mut want);
        paths(&pipeline(), "", &mut have);
        want.sort();
        have.sort();
        assert_eq!(want, have, "give the new field its value for old files");
    }

    #[test]
    fn every_defaulted_head_field_has_a_frozen_value() {
        // The fields a head may lack in a file: those its struct does not
        // require (options, and fields with a serde default).
        let model = crate::model::tiny_tone_model(Some(vec![0.0; 3]));
        let full = serde_json::to_value(&model.heads[1]).unwrap();
        let optional_by_nature = [
            "positive",
            "calibration",
            "temperature",
            "class_bias",
            "bias",
        ];
        for key in full.as_object().unwrap().keys() {
            let mut h = full.clone();
            h.as_object_mut().unwrap().remove(key);
            let parsed = serde_json::from_value::<crate::model::HeadSpec>(h);
            let optional = parsed.is_ok();
            assert_eq!(
                optional,
                optional_by_nature.contains(&key.as_str()),
                "{key}: a head field with a serde default needs a frozen value in head()"
            );
        }
        for key in head().as_object().unwrap().keys() {
            assert!(full.get(key).is_some(), "{key} is not a head field");
        }
    }

    #[test]
    fn filling_keeps_what_the_file_has() {
        let mut header = json!({
            "pipeline": {"features": {"negation": true}},
            "heads": [{"name": "a"}, {"name": "b", "shrink": 0.5}],
            "policy": {}
        });
        fill(&mut header, &pipeline(), &head());
        assert_eq!(header["pipeline"]["features"]["negation"], true);
        assert_eq!(header["pipeline"]["features"]["norm"], "none");
        assert_eq!(header["pipeline"]["normalizer"]["max_repeat"], 2);
        assert_eq!(header["heads"][0]["shrink"], 0.0);
        assert_eq!(header["heads"][1]["shrink"], 0.5);
        assert_eq!(header["metadata"], Value::Null);
    }
}
