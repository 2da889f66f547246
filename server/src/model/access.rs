//! `ops/access/status.json`: readiness checks that gate risky work.

use super::reader::FileReader;
use crate::findings::Finding;
use crate::json::Json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    pub name: String,
    pub passed: bool,
    pub status: String,
    pub detail: Option<String>,
}

pub fn parse_access(path: &str, text: &str) -> (Vec<AccessCheck>, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut checks = Vec::new();
    let Some(root) = reader.parse(&[]) else {
        return (checks, reader.findings);
    };
    let body = root.get("checks").unwrap_or(&root);
    if let Some(members) = body.as_members() {
        for member in members {
            if let Some(check) = read_check(&mut reader, member.key.to_string(), &member.value) {
                checks.push(check);
            }
        }
    } else if let Some(items) = body.as_array() {
        for item in items {
            let Some((name, _)) = reader.required_string(item, "name", "an access check") else {
                continue;
            };
            if let Some(check) = read_check(&mut reader, name, item) {
                checks.push(check);
            }
        }
    } else {
        reader.malformed_at(
            body,
            "access checks must be an object (name → status) or an array of {name, status}",
        );
    }
    (checks, reader.findings)
}

fn read_check(reader: &mut FileReader, name: String, value: &Json) -> Option<AccessCheck> {
    let (status, detail) = match value.as_str() {
        Some(s) => (s.to_string(), None),
        None => {
            let what = format!("access check {name}");
            let (status, _) = reader.required_string(value, "status", &what)?;
            (status, reader.string(value, "detail", &what))
        }
    };
    let passed = match status.to_ascii_uppercase().as_str() {
        "PASS" => true,
        "BLOCKED" | "FAIL" => false,
        _ => {
            let at = value.get("status").unwrap_or(value);
            reader.malformed_at(
                at,
                format!("access check {name}: status must be PASS or BLOCKED, found {status:?}"),
            );
            false
        }
    };
    Some(AccessCheck { name, passed, status, detail })
}
