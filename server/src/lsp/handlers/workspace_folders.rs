//! `workspace/didChangeWorkspaceFolders`: an added folder is served as its own workspace (its
//! open documents answered first, as at start-up); a removed one's diagnostics are cleared and
//! its state dropped.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::ls_types::*;

use crate::lsp::server::{Backend, Folder};

pub async fn did_change_workspace_folders(backend: &Backend, params: DidChangeWorkspaceFoldersParams) {
    let event = params.event;
    let removed_roots: Vec<_> =
        event.removed.iter().filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned())).collect();
    // What each removed folder had published, found before it stops owning those URIs.
    let mut removed: Vec<Arc<Folder>> = Vec::new();
    let mut cleared: HashSet<Uri> = HashSet::new();
    {
        let published: Vec<Uri> =
            backend.shared.published.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
        for folder in backend.folders().into_iter().filter(|f| removed_roots.contains(&f.root)) {
            cleared.extend(published.iter().filter(|u| backend.owns(&folder, u)).cloned());
            removed.push(folder);
        }
    }
    let mut added: Vec<Arc<Folder>> = Vec::new();
    {
        let mut folders = backend.shared.folders.write().unwrap_or_else(|e| e.into_inner());
        folders.retain(|f| !removed_roots.contains(&f.root));
        for named in &event.added {
            let Some(root) = named.uri.to_file_path().map(|p| p.into_owned()) else {
                tracing::warn!(
                    uri = named.uri.as_str(),
                    "an added workspace folder that is not a local path: not served"
                );
                continue;
            };
            if folders.iter().any(|f| f.root == root) {
                continue;
            }
            let folder = Arc::new(Folder::new(named.uri.clone(), root, Some(named.name.clone())));
            folders.push(folder.clone());
            added.push(folder);
        }
    }
    for folder in &removed {
        folder.remove();
        tracing::info!(folder = %folder.root.display(), "workspace folder removed");
    }
    if backend.shared.initialized.load(Ordering::SeqCst) {
        for folder in &added {
            tracing::info!(folder = %folder.root.display(), "workspace folder added");
            backend.start(folder);
        }
    }
    if removed.is_empty() {
        return;
    }
    if backend.settings().pull {
        // The client pulls again; a removed folder's files are then reported empty.
        backend.refresh_pulled().await;
        return;
    }
    for uri in cleared {
        backend.push(uri, Vec::new(), None).await;
    }
    // A folder the removed one was nested in owns its files again; open documents are
    // answered by the folder they belong to now (or by none).
    let remaining = backend.folders();
    for folder in remaining.iter().filter(|f| removed.iter().any(|r| r.root.starts_with(&f.root))) {
        backend.publish_workspace(folder).await;
    }
    let open: Vec<Uri> =
        backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
    for uri in open.into_iter().filter(|u| removed.iter().any(|r| r.rel(u).is_some())) {
        backend.schedule_diagnostics_after(uri, Duration::ZERO);
    }
}
