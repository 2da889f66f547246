//! `workspace/didChangeConfiguration`: the settings a client may change without a restart.

use std::time::Duration;

use serde_json::Value;
use tower_lsp_server::ls_types::*;

use crate::lsp::server::Backend;

pub async fn did_change_configuration(backend: &Backend, params: DidChangeConfigurationParams) {
    let Some(concord) = params.settings.get("concord").filter(|c| c.is_object()) else { return };
    {
        let mut settings = backend.shared.settings.write().unwrap_or_else(|e| e.into_inner());
        if let Some(agent) = concord.get("agent") {
            settings.agent = agent.as_str().filter(|a| !a.is_empty()).map(str::to_string);
        }
        if let Some(preset) = concord.get("agentPreset") {
            settings.agent_preset = preset.as_str().filter(|p| !p.is_empty()).map(str::to_string);
        }
        if let Some(trusted) = concord.get("trusted").and_then(Value::as_bool) {
            settings.trusted = trusted;
        }
        if let Some(debounce) =
            concord.get("debounceMs").and_then(|v| client_debounce(v, "didChangeConfiguration"))
        {
            settings.debounce = Some(debounce);
        }
        tracing::info!(agent = ?settings.agent, trusted = settings.trusted, "settings changed");
    }
    // Scope diagnostics depend on the agent: recompute open documents.
    let open: Vec<Uri> =
        backend.shared.docs.lock().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect();
    for uri in open {
        backend.schedule_diagnostics(uri);
    }
}

/// A client's `debounceMs`, clamped to 0..=`DEBOUNCE_MS_MAX` (saying so in the log); `None`
/// (also logged) for a value that is not a whole number.
pub fn client_debounce(value: &Value, source: &str) -> Option<Duration> {
    let max = crate::config::DEBOUNCE_MS_MAX;
    let ms = match (value.as_u64(), value.as_i64()) {
        (Some(ms), _) if ms <= max => ms,
        (Some(ms), _) => {
            tracing::warn!("{source}: debounceMs {ms} is above the maximum; using {max} ms");
            max
        }
        (None, Some(ms)) => {
            tracing::warn!("{source}: debounceMs {ms} is negative; using 0 ms");
            0
        }
        (None, None) => {
            tracing::warn!("{source}: debounceMs {value} is not a whole number of milliseconds; ignored");
            return None;
        }
    };
    Some(Duration::from_millis(ms))
}
