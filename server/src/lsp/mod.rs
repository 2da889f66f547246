//! `concord lsp`: a language server over stdio, a thin adapter over the core.

mod commands;
mod convert;
mod diagnostics;
mod documents;
mod features;
pub mod framing;
mod handlers;
pub(crate) mod logging;
mod server;
mod timing;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

pub use commands::COMMANDS;
pub use documents::Encoding;
pub use server::Backend;

/// How many requests run at once: enough that slow commands never starve hovers.
const CONCURRENCY: usize = 32;
/// Buffer of each in-memory pipe between the framing layer and the framework.
const PIPE_BYTES: usize = 256 * 1024;
/// Replies of the framing layer waiting for the writer (the reader waits when it is full).
const REPLY_QUEUE: usize = 64;

/// Serve one client on `input`/`output` until it sends `exit` or its input ends. Returns whether
/// `shutdown` came first (the exit code the protocol asks for depends on it).
///
/// The client's bytes go through the framing layer, which answers malformed frames itself; the
/// framework only sees checked messages, over in-memory pipes.
pub async fn serve<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let (to_server, server_input) = tokio::io::duplex(PIPE_BYTES);
    let (server_output, from_server) = tokio::io::duplex(PIPE_BYTES);
    let (replies_tx, replies_rx) = tokio::sync::mpsc::channel(REPLY_QUEUE);
    let session = async {
        tokio::join!(
            serve_checked(server_input, server_output),
            framing::write_client(from_server, replies_rx, output)
        )
        .0
    };
    tokio::pin!(session);
    tokio::select! {
        clean = &mut session => clean,
        // The client's input ended: the server sees its end and finishes what it was doing.
        () = framing::read_client(input, to_server, replies_tx) => session.await,
    }
}

/// The framework itself, on input that has passed the framing layer.
async fn serve_checked<I, O>(input: I, output: O) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let flag = shutdown_requested.clone();
    let (service, socket) = LspService::new(move |client| Backend::new(client, flag));
    Server::new(input, output, socket).concurrency_level(CONCURRENCY).serve(timing::Timed(service)).await;
    shutdown_requested.load(Ordering::SeqCst)
}

pub fn run_stdio() -> ExitCode {
    logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("concord lsp: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let clean = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Background tasks (a scan in progress) must not keep the process alive after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
