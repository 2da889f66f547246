//! `workspace/symbol`: chunks and work items by ID or title, of every workspace folder.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn workspace_symbol(
    backend: &Backend,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    // Every folder's symbols, folder by folder in the client's order.
    let mut loaded = Vec::new();
    for folder in backend.folders() {
        loaded.extend(folder.loaded_when_ready().await);
    }
    if loaded.is_empty() {
        return Ok(None);
    }
    let encoding = backend.settings().encoding;
    guarded(|| {
        let symbols =
            loaded.iter().flat_map(|l| features::workspace_symbols(l, &params.query, encoding)).collect();
        Some(WorkspaceSymbolResponse::Flat(symbols))
    })
}
