//! `workspace/symbol`: chunks and work items by ID or title.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn workspace_symbol(
    backend: &Backend,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>> {
    let Some(loaded) = backend.loaded_when_ready().await else { return Ok(None) };
    let encoding = backend.settings().encoding;
    guarded(|| {
        Some(WorkspaceSymbolResponse::Flat(features::workspace_symbols(&loaded, &params.query, encoding)))
    })
}
