//! `textDocument/hover`: what an ID stands for.

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::documents::Encoding;
use crate::lsp::features;
use crate::lsp::server::{guarded, Backend};

pub async fn hover(backend: &Backend, params: HoverParams) -> Result<Option<Hover>> {
    let position = params.text_document_position_params.position;
    let uri = params.text_document_position_params.text_document.uri;
    let Some((loaded, line, encoding)) = backend.at_position(&uri, position).await else { return Ok(None) };
    guarded(|| {
        let (id, start, end) = features::id_at(&loaded, &line, position.character, encoding)?;
        let column = |byte: usize| match encoding {
            Encoding::Utf8 => byte as u32,
            Encoding::Utf16 => crate::text::utf16_len(&line[..byte]) as u32,
        };
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: features::hover_markdown(&loaded, &id),
            }),
            range: Some(Range::new(
                Position::new(position.line, column(start)),
                Position::new(position.line, column(end)),
            )),
        })
    })
}
