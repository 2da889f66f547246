//! The open documents: `didOpen`, `didChange`, `didSave` and `didClose`.

use tower_lsp_server::ls_types::*;

use crate::lsp::diagnostics::in_scope;
use crate::lsp::documents::Document;
use crate::lsp::server::{Backend, Change};

pub async fn did_open(backend: &Backend, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let path = backend.rel(&doc.uri);
    backend
        .shared
        .docs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(doc.uri.clone(), Document::new(&doc.text, doc.version, path));
    backend.schedule_diagnostics(doc.uri);
}

pub async fn did_change(backend: &Backend, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let version = params.text_document.version;
    let encoding = backend.settings().encoding;
    {
        let mut docs = backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(doc) = docs.get_mut(&uri) else {
            tracing::warn!(uri = uri.as_str(), "didChange for a document that is not open: ignored");
            return;
        };
        if version <= doc.version {
            tracing::warn!(
                uri = uri.as_str(),
                version,
                open_version = doc.version,
                "didChange with a version that is not newer than the open one: ignored"
            );
            return;
        }
        for change in &params.content_changes {
            doc.apply(change, encoding);
        }
        doc.version = version;
    }
    backend.schedule_diagnostics(uri);
}

pub async fn did_save(backend: &Backend, params: DidSaveTextDocumentParams) {
    let Some(path) = backend.rel(&params.text_document.uri) else { return };
    let change = if backend.needs_reload(&path) { Change::Reload(None) } else { Change::Files(vec![path]) };
    backend.submit(change);
}

pub async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).remove(&uri);
    // What was published for the buffer is replaced by what the file on disk has, if the
    // scope keeps the file; else it is cleared. Pull clients ask again themselves.
    if backend.settings().pull {
        return;
    }
    let diagnostics = match (backend.loaded(), backend.rel(&uri)) {
        (Some(loaded), Some(path)) => {
            let findings = Backend::disk_findings(&loaded, &path);
            if in_scope(backend.scope(&loaded), &loaded.ws.config, &path, &findings) {
                backend.disk_diagnostics(&loaded, &path)
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    };
    backend.push(uri, diagnostics, None).await;
}
