//! Template `Parameters`: each parameter's `Default` replaces `!Ref Name` and `${Name}` (inside any string)
//! everywhere in the template before the walk, as ROS does when no value is given. References to other
//! names (`${svc.Arn}`, pseudo parameters) are left as written. There is no `--parameter-override` yet:
//! a parameter without a `Default` is an error at its path.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use super::Note;

pub fn substitute(doc: &mut Value, errors: &mut Vec<Note>) {
    let Some(params) = doc.get("Parameters").and_then(Value::as_mapping) else { return };
    let mut values = BTreeMap::new();
    for (name, spec) in params {
        let Some(name) = name.as_str() else { continue };
        let value = match spec.get("Default") {
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v.clone(),
            _ => {
                let path = format!("Parameters.{name}.Default");
                errors.push(Note { path, message: "is required: Ferric takes parameters from their Default".into() });
                continue;
            }
        };
        values.insert(name.to_string(), value);
    }
    if let Some(resources) = doc.get_mut("Resources") {
        replace(resources, &values);
    }
}

/// A default as it reads inside a string.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// `!Ref Name` takes the default's own type (a number stays a number); `${Name}` its text.
fn replace(value: &mut Value, params: &BTreeMap<String, Value>) {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            if let Some(v) = tagged.value.as_str().and_then(|name| params.get(name)) {
                *value = v.clone();
            }
        }
        Value::Tagged(tagged) => replace(&mut tagged.value, params),
        Value::String(s) if s.contains("${") => {
            for (name, v) in params {
                *s = s.replace(&format!("${{{name}}}"), &text(v));
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(|v| replace(v, params)),
        Value::Mapping(map) => map.iter_mut().for_each(|(_, v)| replace(v, params)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_replace_refs_and_interpolations() {
        let mut doc: Value = serde_yaml_ng::from_str(
            "Parameters:\n  Mem: {Type: Number, Default: 256}\n  Env: {Type: String, Default: prod}\n  \
             Bare: {Type: String}\nResources:\n  a: {M: !Ref Mem, D: 'app-${Env} ${x.Arn}', O: !Ref Other}\n",
        )
        .expect("yaml");
        let mut errors = Vec::new();
        substitute(&mut doc, &mut errors);
        let a = &doc["Resources"]["a"];
        assert_eq!(a["M"], Value::Number(256.into()));
        assert_eq!(a["D"], Value::String("app-prod ${x.Arn}".into()));
        assert!(matches!(a["O"], Value::Tagged(_)), "an unknown reference stays");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "Parameters.Bare.Default");
    }
}
