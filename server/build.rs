//! The build's fingerprint, `CONCORD_BUILD_ID`: a hash of the sources compiled into the binary
//! (`src/`, the tree-sitter queries, the review decision's schema). The findings cache keeps
//! rendered messages, so a binary built from other sources must not replay them, even under
//! the same version number.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let inputs = [
        manifest.join("src"),
        manifest.join("../queries"),
        manifest.join("../docs/schemas/review-decision.schema.json"),
    ];
    let mut files = Vec::new();
    for input in &inputs {
        println!("cargo:rerun-if-changed={}", input.display());
        collect(input, &mut files);
    }
    files.sort();
    // SipHash with fixed keys: the same sources give the same fingerprint on every machine.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in &files {
        // Relative, so the checkout's location does not count.
        file.strip_prefix(&manifest).unwrap_or(file).hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    println!("cargo:rustc-env=CONCORD_BUILD_ID={:016x}", hasher.finish());
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect(&entry.path(), files);
        }
    } else if path.is_file() {
        files.push(path.to_path_buf());
    }
}
