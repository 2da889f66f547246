//! `textDocument/codeAction`: the quick fixes a diagnostic carries, and "Reviewed" for stale
//! references.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

use crate::lsp::convert;
use crate::lsp::server::{guarded, Backend, Folder};

pub async fn code_action(backend: &Backend, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
    let uri = params.text_document.uri;
    // Diagnostics may come while the workspace is indexed; their fixes need all of it.
    let folder = backend.folder_of(&uri).map(|(f, _)| f);
    if let Some(folder) = &folder {
        let _ = folder.loaded_when_ready().await;
    }
    guarded(|| {
        let mut actions = Vec::new();
        for diagnostic in params.context.diagnostics.iter().filter(|d| d.source.as_deref() == Some("concord"))
        {
            let Some(fixes) = diagnostic.data.as_ref().and_then(|d| d.get("fixes")).and_then(Value::as_array)
            else {
                continue;
            };
            for (n, fix) in fixes.iter().enumerate() {
                let Some(title) = fix.get("title").and_then(Value::as_str) else { continue };
                let Some(edits) =
                    fix.get("edits").and_then(|e| serde_json::from_value::<Vec<TextEdit>>(e.clone()).ok())
                else {
                    continue;
                };
                actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: title.to_string(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(WorkspaceEdit {
                        changes: Some([(uri.clone(), edits)].into_iter().collect()),
                        ..Default::default()
                    }),
                    is_preferred: Some(n == 0),
                    ..Default::default()
                }));
            }
        }
        if let Some(folder) = &folder {
            actions.extend(reviewed_actions(backend, folder, &uri, &params.context.diagnostics));
        }
        Some(actions)
    })
}

/// "Reviewed" quick fixes for `stale-reference` diagnostics at places: each records the
/// place as checked against its chunk's current text, as an edit of the trace lock that the
/// client applies (the person sees the change; the server writes nothing).
fn reviewed_actions(
    backend: &Backend,
    folder: &Folder,
    uri: &Uri,
    diagnostics: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let stale: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some("concord"))
        .filter(|d| d.code == Some(NumberOrString::String("stale-reference".into())))
        .collect();
    let Some(loaded) = folder.loaded().filter(|_| !stale.is_empty()) else { return Vec::new() };
    let Some(facts) = backend.facts(folder, &loaded, uri) else { return Vec::new() };
    let encoding = backend.settings().encoding;
    let ws = &loaded.ws;
    let keys = crate::stale::stale_keys(&ws.config, &ws.model, &facts);
    let mut out = Vec::new();
    for diagnostic in stale {
        let Some((key, _, _)) = keys.iter().find(|(key, span, _)| {
            convert::range(*span, encoding) == diagnostic.range
                && diagnostic.data.as_ref().and_then(|d| d.get("id")).and_then(Value::as_str)
                    == Some(key.chunk.as_str())
        }) else {
            continue;
        };
        let Ok((rel, now, after)) = crate::ops::trace_lock::with_reviewed(ws, key) else { continue };
        let Some(target) = convert::uri(&ws.root, &rel) else { continue };
        let now = now.unwrap_or_default();
        let end = crate::text::LineIndex::new(&now).line_col(&now, now.len());
        let whole = crate::text::Span { start: crate::text::LineCol::default(), end };
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!(
                "Reviewed: record {} as checked against the current text of {}",
                crate::stale::place(key),
                key.chunk
            ),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic.clone()]),
            edit: Some(WorkspaceEdit {
                changes: Some(
                    [(target, vec![TextEdit { range: convert::range(whole, encoding), new_text: after }])]
                        .into_iter()
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    out
}
