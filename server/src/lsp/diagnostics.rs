//! Which files' diagnostics reach the client, and how it is told that they did not change.

use std::hash::{Hash, Hasher};

use tower_lsp_server::ls_types::Diagnostic;

use crate::config::{Config, DiagnosticsScope, CONFIG_FILE};
use crate::findings::{Finding, Severity};

/// An identifier of a set of diagnostics: equal sets have equal identifiers, in this process
/// and across restarts (the hasher has fixed keys). Pull clients send it back; push clients
/// are sent a file again only when it changes.
pub fn result_id(diagnostics: &[Diagnostic]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(diagnostics).unwrap_or_default().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The result ID of a file that is not open, from what its diagnostics are made of (the
/// fingerprint of its own findings, the workspace-level findings placed in it, and any other
/// diagnostics): a file whose findings did not change is answered without computing them.
pub fn closed_file_result_id(own: Option<u64>, placed: &[Finding], other: &[Diagnostic]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    own.hash(&mut hasher);
    crate::findings::fingerprint(placed).hash(&mut hasher);
    if !other.is_empty() {
        serde_json::to_string(other).unwrap_or_default().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// Whether a file that is not open, whose worst finding is `worst` (`None`: it has none), is
/// reported: with the `open` scope only the ops files and the configuration (what the owner
/// acts on) and files with an error; with `workspace`, every file with a finding.
pub fn in_scope(scope: DiagnosticsScope, config: &Config, path: &str, worst: Option<Severity>) -> bool {
    let Some(worst) = worst else { return false };
    match scope {
        DiagnosticsScope::Workspace => true,
        DiagnosticsScope::Open => path == CONFIG_FILE || config.is_ops_file(path) || worst == Severity::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Code;
    use crate::text::Span;

    #[test]
    fn the_open_scope_keeps_ops_files_and_errors_only() {
        let config = Config::default();
        let (warning, error) = (Some(Severity::Warning), Some(Severity::Error));
        let open = DiagnosticsScope::Open;
        assert!(!in_scope(open, &config, "src/a.rs", warning));
        assert!(in_scope(open, &config, "src/a.rs", error));
        assert!(in_scope(open, &config, "ops/wbs.json", warning));
        assert!(in_scope(open, &config, "ops/locks/A.lock", warning));
        assert!(!in_scope(open, &config, "ops/wbs.json", None));
        assert!(in_scope(DiagnosticsScope::Workspace, &config, "src/a.rs", warning));
        assert!(!in_scope(DiagnosticsScope::Workspace, &config, "src/a.rs", None));
    }

    #[test]
    fn closed_file_result_ids_follow_what_the_diagnostics_are_made_of() {
        let placed = Finding::new(Code::UncoveredChunk, "a.md", Span::default(), "x");
        let mut moved = placed.clone();
        moved.message = "y".into();
        let problem = Diagnostic { message: "bad".into(), ..Default::default() };
        let id = closed_file_result_id(Some(1), std::slice::from_ref(&placed), &[]);
        assert_eq!(id, closed_file_result_id(Some(1), std::slice::from_ref(&placed), &[]));
        for other in [
            closed_file_result_id(Some(2), std::slice::from_ref(&placed), &[]),
            closed_file_result_id(None, std::slice::from_ref(&placed), &[]),
            closed_file_result_id(Some(1), &[moved], &[]),
            closed_file_result_id(Some(1), &[], &[]),
            closed_file_result_id(Some(1), std::slice::from_ref(&placed), &[problem]),
        ] {
            assert_ne!(id, other);
        }
    }

    #[test]
    fn result_ids_follow_the_content() {
        let a = Diagnostic { message: "a".into(), ..Default::default() };
        let b = Diagnostic { message: "b".into(), ..Default::default() };
        assert_eq!(result_id(std::slice::from_ref(&a)), result_id(std::slice::from_ref(&a)));
        assert_ne!(result_id(std::slice::from_ref(&a)), result_id(&[b]));
        assert_ne!(result_id(&[]), result_id(&[a]));
    }
}
