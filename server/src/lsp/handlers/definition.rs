//! `textDocument/definition`: where an ID is defined.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn definition(
    backend: &Backend,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let position = params.text_document_position_params.position;
    let uri = params.text_document_position_params.text_document.uri;
    let Some((loaded, line, encoding)) = backend.at_position(&uri, position).await else { return Ok(None) };
    guarded(|| {
        let (id, _, _) = features::id_at(&loaded, &line, position.character, encoding)?;
        features::definition(&loaded, &id, encoding).map(GotoDefinitionResponse::Scalar)
    })
}
