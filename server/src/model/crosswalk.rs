//! Reading an existing crosswalk: which paths (or globs, in a hand-curated one) are mapped.
//! Writing one is `coverage`'s job.

use globset::GlobSet;

use super::reader::FileReader;
use crate::findings::Finding;

#[derive(Debug, Clone, Default)]
pub struct CrosswalkMapping {
    paths: std::collections::BTreeSet<String>,
    globs: Option<GlobSet>,
}

impl CrosswalkMapping {
    pub fn maps(&self, path: &str) -> bool {
        self.paths.contains(path) || self.globs.as_ref().is_some_and(|g| g.is_match(path))
    }
}

pub fn parse_crosswalk(path: &str, text: &str) -> (CrosswalkMapping, Vec<Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut mapping = CrosswalkMapping::default();
    let Some(root) = reader.parse(&[]) else {
        return (mapping, reader.findings);
    };
    let Some(entries) = root.as_array().or_else(|| root.get("chunks").and_then(|c| c.as_array())) else {
        reader.malformed_at(&root, "the crosswalk must be an array of entries or an object with a `chunks` array; regenerate it with `concord crosswalk`");
        return (mapping, reader.findings);
    };
    let mut globs = Vec::new();
    for entry in entries {
        if entry.as_members().is_none() {
            reader.malformed_at(entry, "a crosswalk entry must be an object");
            continue;
        }
        for key in ["code_paths", "test_paths"] {
            for (p, span) in reader.strings(entry, key, "a crosswalk entry") {
                if p.contains(['*', '?', '[', '{']) {
                    match crate::config::compile_glob(&p) {
                        Ok(glob) => globs.push(glob),
                        Err(message) => reader.findings.push(Finding::new(
                            crate::findings::Code::MalformedFile,
                            path,
                            span,
                            message,
                        )),
                    }
                } else {
                    mapping.paths.insert(p);
                }
            }
        }
    }
    if !globs.is_empty() {
        let mut builder = globset::GlobSetBuilder::new();
        for glob in globs {
            builder.add(glob);
        }
        mapping.globs = builder.build().ok();
    }
    (mapping, reader.findings)
}
