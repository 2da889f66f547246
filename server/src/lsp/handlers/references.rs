//! `textDocument/references`: every place an ID is used in the document's folder, open buffers
//! as they are now.

use std::collections::BTreeMap;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};
use crate::scan::{scan_text, FileFacts};

pub async fn references(backend: &Backend, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
    let position = params.text_document_position.position;
    let uri = params.text_document_position.text_document.uri;
    let Some((folder, _)) = backend.folder_of(&uri) else { return Ok(None) };
    let Some((loaded, line, encoding)) = backend.at_position(&uri, position).await else { return Ok(None) };
    // The open buffers of the document's own folder: references stay within it.
    let open: Vec<(Uri, String)> = {
        let docs = backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner());
        docs.iter().map(|(u, d)| (u.clone(), d.rope.to_string())).collect()
    };
    let open: Vec<(String, String)> = open
        .into_iter()
        .filter(|(u, _)| backend.owns(&folder, u))
        .filter_map(|(u, text)| Some((folder.rel(&u)?, text)))
        .collect();
    guarded(|| {
        let (id, _, _) = features::id_at(&loaded, &line, position.character, encoding)?;
        let open: BTreeMap<String, FileFacts> = open
            .iter()
            .map(|(path, text)| (path.clone(), scan_text(&loaded.ws.config, path, text)))
            .collect();
        Some(features::references(&loaded, &id, &open, encoding))
    })
}
