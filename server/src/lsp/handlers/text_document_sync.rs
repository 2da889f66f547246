//! The open documents: `didOpen`, `didChange`, `didSave` and `didClose`.

use tower_lsp_server::ls_types::*;

use crate::lsp::diagnostics::in_scope;
use crate::lsp::documents::Document;
use crate::lsp::server::{Backend, Change};

pub async fn did_open(backend: &Backend, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    // The document's folder is found from its URI whenever it is needed: folders may come and go
    // while it is open.
    backend
        .shared
        .docs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(doc.uri.clone(), Document::new(&doc.text, doc.version));
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
    // Only the folder of the file changes (and a folder it is nested in, whose workspace holds
    // the file too).
    for (folder, path) in backend.folders_containing(&params.text_document.uri) {
        let change =
            if folder.needs_reload(&path) { Change::Reload(None) } else { Change::Files(vec![path]) };
        folder.submit(change);
    }
}

pub async fn did_close(backend: &Backend, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).remove(&uri);
    // What was published for the buffer is replaced by what the file on disk has, if the
    // scope keeps the file; else it is cleared. Pull clients ask again themselves.
    if backend.settings().pull {
        return;
    }
    let folder = backend.folder_of(&uri);
    let diagnostics = match folder.as_ref().and_then(|(f, path)| Some((f, f.loaded()?, path))) {
        Some((folder, loaded, path)) => {
            let findings = Backend::disk_findings(&loaded, path);
            let worst = findings.iter().map(|f| f.severity).max();
            if in_scope(backend.scope(&loaded), &loaded.ws.config, path, worst) {
                backend.disk_diagnostics(folder, &loaded, path)
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    };
    backend.push(uri, diagnostics, None).await;
}
