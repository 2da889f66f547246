//! Diagnostics the client pulls: `textDocument/diagnostic` and `workspace/diagnostic`, with
//! result IDs so that unchanged files are answered `unchanged`.

use std::collections::{HashMap, HashSet};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::diagnostics::result_id;
use crate::lsp::server::{guarded, Backend};

pub async fn document_diagnostic(
    backend: &Backend,
    params: DocumentDiagnosticParams,
) -> Result<DocumentDiagnosticReportResult> {
    let uri = params.text_document.uri;
    // A document outside every folder has no diagnostics of Concord's.
    let folder = backend.folder_of(&uri);
    if let Some((folder, _)) = &folder {
        let _ = folder.model_when_ready().await;
    }
    let diagnostics = match backend.document_diagnostics(&uri, None) {
        Some((_, diagnostics)) => diagnostics,
        None => match folder.and_then(|(f, path)| Some((f.current()?, f, path))) {
            Some((loaded, folder, path)) => guarded(|| backend.disk_diagnostics(&folder, &loaded, &path))?,
            None => Vec::new(),
        },
    };
    let id = result_id(&diagnostics);
    let report = if params.previous_result_id.as_deref() == Some(id.as_str()) {
        DocumentDiagnosticReport::Unchanged(RelatedUnchangedDocumentDiagnosticReport {
            related_documents: None,
            unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id: id },
        })
    } else {
        DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(id),
                items: diagnostics,
            },
        })
    };
    Ok(DocumentDiagnosticReportResult::Report(report))
}

/// The files in the scope that are not open, of every folder, each full or `unchanged` against
/// the result IDs the client holds; a file it holds that left the scope (or whose folder was
/// removed) gets an empty report.
pub async fn workspace_diagnostic(
    backend: &Backend,
    params: WorkspaceDiagnosticParams,
) -> Result<WorkspaceDiagnosticReportResult> {
    // Every folder's files; a folder not loaded (yet, or at all) reports none.
    let folders = backend.folders();
    let held: HashMap<Uri, String> =
        params.previous_result_ids.into_iter().map(|p| (p.uri, p.value)).collect();
    let mut computed = Vec::new();
    let mut any_loaded = false;
    for folder in &folders {
        if let Some(loaded) = folder.loaded_when_ready().await {
            any_loaded = true;
            computed.extend(backend.scoped_workspace_diagnostics(folder, loaded, None, held.clone()).await);
        }
    }
    // Nothing known yet: what the client holds stays as it is. (With no folder left at all,
    // what it holds is cleared below.)
    if !any_loaded && !folders.is_empty() {
        return Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items: Vec::new() }));
    }
    let open: HashSet<Uri> =
        backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
    let reported: HashSet<Uri> = computed.iter().map(|(uri, _, _)| uri.clone()).collect();
    let mut items: Vec<WorkspaceDocumentDiagnosticReport> = computed
        .into_iter()
        .map(|(uri, id, diagnostics)| match diagnostics {
            None => {
                WorkspaceDocumentDiagnosticReport::Unchanged(WorkspaceUnchangedDocumentDiagnosticReport {
                    uri,
                    version: None,
                    unchanged_document_diagnostic_report: UnchangedDocumentDiagnosticReport { result_id: id },
                })
            }
            Some(diagnostics) => {
                WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
                    uri,
                    version: None,
                    full_document_diagnostic_report: FullDocumentDiagnosticReport {
                        result_id: Some(id),
                        items: diagnostics,
                    },
                })
            }
        })
        .collect();
    let empty = result_id(&[]);
    for uri in held.into_keys().filter(|u| !reported.contains(u) && !open.contains(u)) {
        items.push(WorkspaceDocumentDiagnosticReport::Full(WorkspaceFullDocumentDiagnosticReport {
            uri,
            version: None,
            full_document_diagnostic_report: FullDocumentDiagnosticReport {
                result_id: Some(empty.clone()),
                items: Vec::new(),
            },
        }));
    }
    Ok(WorkspaceDiagnosticReportResult::Report(WorkspaceDiagnosticReport { items }))
}
