//! `textDocument/codeLens`: coverage and work-item state above tagged places.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn code_lens(backend: &Backend, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
    let uri = params.text_document.uri;
    let Some((folder, _)) = backend.folder_of(&uri) else { return Ok(None) };
    let Some(loaded) = folder.loaded_when_ready().await else { return Ok(None) };
    let encoding = backend.settings().encoding;
    let Some(facts) = backend.facts(&folder, &loaded, &uri) else { return Ok(None) };
    guarded(|| Some(features::code_lenses(&loaded, &facts, encoding)))
}
