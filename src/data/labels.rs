//! A small rule language that reads one head's label from a row of a
//! corpus: a dotted path to a field, an optional test on its value, and a
//! map from values to labels ([`LabelRule`]). Each source of a training
//! configuration gives one rule per head it labels.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How one head's label is read from a row.
///
/// The value of `field` (a dotted path into the object) is read. With
/// `single`, only a one-element array counts, as its element. Then, if a
/// test is given (`contains`, `any_of`, `all_in`, `nonempty`, `at_least`),
/// the label is `then` when it holds and `else` otherwise (a missing
/// `then`/`else` leaves the row unlabelled for this head). Without a test
/// the value itself is the label (`true`/`false` for booleans), passed
/// through `map` when one is given; values missing from `map` leave the
/// row unlabelled.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRule {
    /// Dotted path of the field.
    pub field: String,
    /// Use only one-element arrays, as their element.
    #[serde(default)]
    pub single: bool,
    /// Like `single`, and arrays of several values give fractional labels.
    #[serde(default)]
    pub fractional: bool,
    /// Value-to-label map.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// Test: the array contains this value (or the value equals it).
    #[serde(default)]
    pub contains: Option<String>,
    /// Test: the array contains any of these values (or the value is one).
    #[serde(default)]
    pub any_of: Option<Vec<String>>,
    /// Test: the array is non-empty and all its values are in this set.
    #[serde(default)]
    pub all_in: Option<Vec<String>>,
    /// Test: the array is non-empty (`true`) or empty (`false`).
    #[serde(default)]
    pub nonempty: Option<bool>,
    /// Test: the number is at least this.
    #[serde(default)]
    pub at_least: Option<f64>,
    /// Label when the test holds.
    #[serde(default)]
    pub then: Option<String>,
    /// Label when the test fails.
    #[serde(default, rename = "else")]
    pub otherwise: Option<String>,
    /// Label when the field is missing or null (by default: unlabelled).
    #[serde(default)]
    pub missing: Option<String>,
}

impl LabelRule {
    pub(crate) fn has_test(&self) -> bool {
        self.contains.is_some()
            || self.any_of.is_some()
            || self.all_in.is_some()
            || self.nonempty.is_some()
            || self.at_least.is_some()
    }

    /// The label this rule reads from `row`, or `None` if unlabelled.
    pub fn label(&self, row: &Value) -> Option<String> {
        let Some(mut v) = lookup(row, &self.field).filter(|v| !v.is_null()) else {
            return self.missing.clone();
        };
        if self.single || self.fractional {
            match v {
                Value::Array(a) if a.len() == 1 => v = &a[0],
                // Several values that come to one label are that label.
                Value::Array(a) if self.fractional => {
                    let labels = self.distinct_labels(a);
                    return (labels.len() == 1).then(|| labels[0].clone());
                }
                _ => return None,
            }
        }
        if self.has_test() {
            let items: Vec<String> = match v {
                Value::Array(a) => a.iter().filter_map(scalar).collect(),
                other => scalar(other).into_iter().collect(),
            };
            let holds = if let Some(c) = &self.contains {
                items.contains(c)
            } else if let Some(any) = &self.any_of {
                items.iter().any(|i| any.contains(i))
            } else if let Some(all) = &self.all_in {
                !items.is_empty() && items.iter().all(|i| all.contains(i))
            } else if let Some(nonempty) = self.nonempty {
                let empty = match v {
                    Value::Array(a) => a.is_empty(),
                    Value::String(s) => s.is_empty(),
                    _ => false,
                };
                empty != nonempty
            } else if let Some(min) = self.at_least {
                v.as_f64()? >= min
            } else {
                false
            };
            return if holds {
                self.then.clone()
            } else {
                self.otherwise.clone()
            };
        }
        let s = scalar(v)?;
        if self.map.is_empty() {
            Some(s)
        } else {
            self.map.get(&s).cloned()
        }
    }
}

impl LabelRule {
    /// With `fractional`, for an array of several distinct values: each
    /// value (through `map`, when one is given; unmapped values are left
    /// out) with weight 1/n, n the number of values kept. Empty otherwise.
    pub fn fractional_labels(&self, row: &Value) -> Vec<(String, f32)> {
        if !self.fractional {
            return Vec::new();
        }
        let Some(Value::Array(items)) = lookup(row, &self.field) else {
            return Vec::new();
        };
        let labels = self.distinct_labels(items);
        if labels.len() < 2 {
            return Vec::new();
        }
        let w = 1.0 / labels.len() as f32;
        labels.into_iter().map(|l| (l, w)).collect()
    }
}

impl LabelRule {
    /// The distinct labels of an array's values, through `map` when one is
    /// given (unmapped values are left out), in order of appearance.
    fn distinct_labels(&self, items: &[Value]) -> Vec<String> {
        let mut labels: Vec<String> = Vec::new();
        for item in items {
            let Some(s) = scalar(item) else { continue };
            let label = if self.map.is_empty() {
                Some(s)
            } else {
                self.map.get(&s).cloned()
            };
            if let Some(l) = label.filter(|l| !labels.contains(l)) {
                labels.push(l);
            }
        }
        labels
    }
}

pub(super) fn lookup<'a>(row: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(row, |v, key| v.get(key))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(toml_text: &str) -> LabelRule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn label_rules() {
        let row = json!({"class": "neither", "toxic": 1, "flag": true,
            "types": ["Insult", "Threat"], "ekman": ["joy"], "sent": ["positive", "neutral"],
            "n": {"threat": 2}});
        assert_eq!(rule("field = 'flag'").label(&row), Some("true".into()));
        assert_eq!(rule("field = 'toxic'").label(&row), Some("1".into()));
        assert_eq!(
            rule("field = 'class'\nmap = { neither = 'civil' }").label(&row),
            Some("civil".into())
        );
        assert_eq!(
            rule("field = 'class'\nmap = { hate = 'x' }").label(&row),
            None
        );
        assert_eq!(
            rule("field = 'types'\ncontains = 'Insult'\nthen = 'true'\nelse = 'false'").label(&row),
            Some("true".into())
        );
        assert_eq!(
            rule("field = 'types'\ncontains = 'Profane'\nthen = 'true'\nelse = 'false'")
                .label(&row),
            Some("false".into())
        );
        assert_eq!(
            rule("field = 'ekman'\nsingle = true").label(&row),
            Some("joy".into())
        );
        assert_eq!(rule("field = 'types'\nsingle = true").label(&row), None);
        assert_eq!(
            rule("field = 'sent'\nall_in = ['positive', 'neutral']\nthen = 'civil'").label(&row),
            Some("civil".into())
        );
        assert_eq!(
            rule("field = 'n.threat'\nat_least = 2\nthen = 'true'\nelse = 'false'").label(&row),
            Some("true".into())
        );
        assert_eq!(rule("field = 'missing'").label(&row), None);
        assert_eq!(
            rule("field = 'n.insult'\nat_least = 1\nthen = 'true'\nelse = 'false'\nmissing = 'false'")
                .label(&row),
            Some("false".into())
        );
        let spans = json!({"spans": [[0, 4]], "none": []});
        let nonempty = "nonempty = true\nthen = 'uncivil'\nelse = 'civil'";
        assert_eq!(
            rule(&format!("field = 'spans'\n{nonempty}")).label(&spans),
            Some("uncivil".into())
        );
        assert_eq!(
            rule(&format!("field = 'none'\n{nonempty}")).label(&spans),
            Some("civil".into())
        );
    }

    #[test]
    fn fractional_rules() {
        let r = rule("field = 'ekman'\nfractional = true");
        let one = json!({"ekman": ["joy"]});
        let two = json!({"ekman": ["joy", "anger", "joy"]});
        let three = json!({"ekman": ["joy", "anger", "fear"]});
        assert_eq!(r.label(&one), Some("joy".into()));
        assert!(r.fractional_labels(&one).is_empty());
        assert_eq!(r.label(&two), None);
        assert_eq!(
            r.fractional_labels(&two),
            vec![("joy".to_string(), 0.5), ("anger".to_string(), 0.5)]
        );
        let third = 1.0 / 3.0;
        assert_eq!(
            r.fractional_labels(&three),
            vec![
                ("joy".to_string(), third),
                ("anger".to_string(), third),
                ("fear".to_string(), third)
            ]
        );
        // Through a map; unmapped values are left out.
        let mapped = rule("field = 'ekman'\nfractional = true\nmap = { joy = 'j', fear = 'f' }");
        assert_eq!(
            mapped.fractional_labels(&three),
            vec![("j".to_string(), 0.5), ("f".to_string(), 0.5)]
        );
        assert!(mapped.fractional_labels(&two).is_empty());
        // Several values that come to one label are that label, not
        // an unlabelled row.
        assert_eq!(mapped.label(&two), Some("j".into()));
        assert_eq!(
            r.label(&json!({"ekman": ["joy", "joy"]})),
            Some("joy".into())
        );
        assert_eq!(mapped.label(&json!({"ekman": ["anger", "disgust"]})), None);
        // Without `fractional`, or without an array, nothing.
        assert!(rule("field = 'ekman'\nsingle = true")
            .fractional_labels(&two)
            .is_empty());
        assert!(r.fractional_labels(&json!({"ekman": "joy"})).is_empty());
    }
}
