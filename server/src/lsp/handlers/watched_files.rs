//! Files changed on disk: `workspace/didChangeWatchedFiles`, and the watcher the server
//! registers for clients that let it.

use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use crate::lsp::server::{Backend, Change, Folder, CLIENT_TIMEOUT};

/// Each path goes to its folder's queue, and to the queue of a folder it is nested in (a path
/// under no folder is ignored); a folder whose configuration or ops files changed reloads, the
/// others update those files.
pub async fn did_change_watched_files(backend: &Backend, params: DidChangeWatchedFilesParams) {
    // By folder, in the order the folders first appear in the events.
    let mut by_folder: Vec<(Arc<Folder>, bool, Vec<String>)> = Vec::new();
    // A folder nested in another: the file changed for both workspaces.
    let located = params.changes.iter().flat_map(|event| backend.folders_containing(&event.uri));
    for (folder, path) in located {
        let at = match by_folder.iter().position(|(f, _, _)| Arc::ptr_eq(f, &folder)) {
            Some(at) => at,
            None => {
                by_folder.push((folder, false, Vec::new()));
                by_folder.len() - 1
            }
        };
        let (folder, reload, changed) = &mut by_folder[at];
        if folder.needs_reload(&path) {
            *reload = true;
        } else {
            changed.push(path);
        }
    }
    for (folder, reload, changed) in by_folder {
        if reload {
            folder.submit(Change::Reload(None));
        } else if !changed.is_empty() {
            folder.submit(Change::Files(changed));
        }
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
