//! `textDocument/completion`: IDs with their titles.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn completion(backend: &Backend, params: CompletionParams) -> Result<Option<CompletionResponse>> {
    let position = params.text_document_position.position;
    let uri = params.text_document_position.text_document.uri;
    let Some((loaded, line, encoding)) = backend.at_position(&uri, position).await else { return Ok(None) };
    guarded(|| {
        let (items, truncated) = features::completion(&loaded, &line, position, encoding)?;
        Some(CompletionResponse::List(CompletionList { is_incomplete: truncated, items }))
    })
}
