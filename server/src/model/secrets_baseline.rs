//! The secrets baseline: fingerprints of findings a person accepted (`{"accepted": [...]}`).

use std::collections::HashSet;

use super::reader::FileReader;
use crate::findings::Finding;

pub fn parse_secrets_baseline(path: &str, text: &str) -> (HashSet<String>, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut accepted = HashSet::new();
    let Some(root) = reader.parse(&[]) else { return (accepted, reader.findings) };
    let Some(entries) = root.get("accepted").and_then(|a| a.as_array()) else {
        reader.malformed_at(&root, "the secrets baseline must be an object with an `accepted` array of {fingerprint, rule, path, reason}");
        return (accepted, reader.findings);
    };
    for entry in entries {
        if let Some((fingerprint, _)) = reader.required_string(entry, "fingerprint", "a baseline entry") {
            if fingerprint.len() == 64 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
                accepted.insert(fingerprint.to_ascii_lowercase());
            } else {
                reader.malformed_at(
                    entry.get("fingerprint").unwrap_or(entry),
                    "a fingerprint is 64 hex digits (SHA-256)",
                );
            }
        }
    }
    (accepted, reader.findings)
}
