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

/// Whether a file that is not open is reported: with the `open` scope only the ops files and
/// the configuration (what the owner acts on) and files with an error; with `workspace`, every
/// file with a finding.
pub fn in_scope<'f>(
    scope: DiagnosticsScope,
    config: &Config,
    path: &str,
    findings: impl IntoIterator<Item = &'f Finding>,
) -> bool {
    let mut findings = findings.into_iter().peekable();
    if findings.peek().is_none() {
        return false;
    }
    match scope {
        DiagnosticsScope::Workspace => true,
        DiagnosticsScope::Open => {
            path == CONFIG_FILE || config.is_ops_file(path) || findings.any(|f| f.severity == Severity::Error)
        }
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
        let warning = Finding::new(Code::UntracedFile, "src/a.rs", Span::default(), "untraced");
        let mut error = warning.clone();
        error.severity = Severity::Error;
        let open = DiagnosticsScope::Open;
        assert!(!in_scope(open, &config, "src/a.rs", std::slice::from_ref(&warning)));
        assert!(in_scope(open, &config, "src/a.rs", std::slice::from_ref(&error)));
        assert!(in_scope(open, &config, "ops/wbs.json", std::slice::from_ref(&warning)));
        assert!(in_scope(open, &config, "ops/locks/A.lock", std::slice::from_ref(&warning)));
        assert!(!in_scope(open, &config, "ops/wbs.json", &[]));
        assert!(in_scope(DiagnosticsScope::Workspace, &config, "src/a.rs", &[warning]));
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
