//! The server's log: `tracing` events (and the `log` records of dependencies such as `ignore`
//! and `ureq`, bridged) on stderr, since stdout
//! carries the protocol. The level comes from `CONCORD_LOG` (an `EnvFilter`: `debug`, or per
//! module, `warn,concord::lsp::timing=debug`); without it, the client's `logLevel` at
//! initialize; else `warn`.

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

const ENV: &str = "CONCORD_LOG";
const DEFAULT: &str = "warn";

static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Install the subscriber once per process (later calls do nothing).
pub fn init() {
    let from_env = std::env::var(ENV).ok().filter(|v| !v.trim().is_empty());
    let (filter, bad) = match from_env.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new(DEFAULT), Some(e)),
        None => (EnvFilter::new(DEFAULT), None),
    };
    let (layer, handle) = reload::Layer::new(filter);
    let fmt =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_target(true);
    if tracing_subscriber::registry().with(layer).with(fmt).try_init().is_ok() {
        // The bridge for dependencies' `log` records took the level of the moment; the filter
        // above decides from now on, also after a reload.
        log::set_max_level(log::LevelFilter::Trace);
        let _ = FILTER.set(handle);
    }
    if let Some(e) = bad {
        tracing::warn!("{ENV} is not a log filter ({e}); logging at `{DEFAULT}`");
    }
}

/// The client's `logLevel` (`off`, `error`, `warn`, `info`, `debug`, `trace`): applied unless
/// `CONCORD_LOG` is set, which always wins.
pub fn set_client_level(level: &str) {
    if std::env::var(ENV).is_ok_and(|v| !v.trim().is_empty()) {
        tracing::debug!("{ENV} is set: the client's logLevel {level:?} is not applied");
        return;
    }
    let level = level.trim().to_ascii_lowercase();
    if !matches!(level.as_str(), "off" | "error" | "warn" | "info" | "debug" | "trace") {
        tracing::warn!("initializationOptions.logLevel {level:?} is not one of off, error, warn, info, debug, trace; ignored");
        return;
    }
    if let Some(handle) = FILTER.get() {
        let _ = handle.reload(EnvFilter::new(&level));
        tracing::info!("log level {level} (from the client)");
    }
}
