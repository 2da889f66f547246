//! Files changed on disk: `workspace/didChangeWatchedFiles`, and the watcher the server
//! registers for clients that let it.

use tower_lsp_server::ls_types::*;

use crate::lsp::server::{Backend, Change, CLIENT_TIMEOUT};

pub async fn did_change_watched_files(backend: &Backend, params: DidChangeWatchedFilesParams) {
    let mut reload = false;
    let mut changed = Vec::new();
    for event in &params.changes {
        let Some(path) = backend.rel(&event.uri) else { continue };
        if backend.needs_reload(&path) {
            reload = true;
        } else {
            changed.push(path);
        }
    }
    if reload {
        backend.submit(Change::Reload(None));
    } else if !changed.is_empty() {
        backend.submit(Change::Files(changed));
    }
}

pub async fn register_watchers(backend: &Backend) {
    if !backend.settings().watched_files_dynamic {
        return;
    }
    let watchers = vec![FileSystemWatcher { glob_pattern: GlobPattern::String("**/*".into()), kind: None }];
    let registration = Registration {
        id: "concord-watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
    };
    if tokio::time::timeout(CLIENT_TIMEOUT, backend.client.register_capability(vec![registration]))
        .await
        .is_err()
    {
        tracing::warn!("the client did not answer the file-watcher registration in time");
    }
}
