//! `ops/trace.lock`: the fingerprint of the spec text each reference was last reviewed against.

use std::collections::BTreeMap;

use super::reader::FileReader;
use crate::findings::Finding;

/// Where a chunk is named: a file, and in an item-level file the item (its name path) whose
/// comments name it; `None` for a file header or a file-level file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefKey {
    pub chunk: String,
    pub path: String,
    pub item: Option<String>,
}

/// The recorded fingerprints, by reference.
pub type Reviewed = BTreeMap<RefKey, String>;

pub fn parse_trace_lock(path: &str, text: &str) -> (Reviewed, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut reviewed = Reviewed::new();
    let Some(root) = reader.parse(&[]) else { return (reviewed, reader.findings) };
    let Some(entries) = root.get("references").and_then(|r| r.as_array()) else {
        reader.malformed_at(
            &root,
            "the trace lock must be an object with a `references` array of {chunk, path, item, fingerprint}; `concord ack` writes it",
        );
        return (reviewed, reader.findings);
    };
    for entry in entries {
        let what = "a trace lock entry";
        let chunk = reader.required_string(entry, "chunk", what);
        let file = reader.required_string(entry, "path", what);
        let fingerprint = reader.required_string(entry, "fingerprint", what);
        let item = reader.string(entry, "item", what);
        if let (Some((chunk, _)), Some((path, _)), Some((fingerprint, _))) = (chunk, file, fingerprint) {
            reviewed.insert(RefKey { chunk, path, item }, fingerprint);
        }
    }
    (reviewed, reader.findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_and_bad_ones_positioned() {
        let text = r#"{"version": 1, "references": [
  {"chunk": "TD-0001", "path": "a.py", "fingerprint": "f1"},
  {"chunk": "TD-0001", "path": "b.py", "item": "Cls.run", "fingerprint": "f2"},
  {"chunk": "TD-0002", "fingerprint": "f3"}
]}"#;
        let (reviewed, findings) = parse_trace_lock("ops/trace.lock", text);
        assert_eq!(reviewed.len(), 2);
        let key = RefKey { chunk: "TD-0001".into(), path: "b.py".into(), item: Some("Cls.run".into()) };
        assert_eq!(reviewed.get(&key).map(String::as_str), Some("f2"));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].span.start.line, 3);
        let (_, findings) = parse_trace_lock("ops/trace.lock", "[1]");
        assert!(findings[0].message.contains("`references` array"));
    }
}
