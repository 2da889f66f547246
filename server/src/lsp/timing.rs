//! How long the server takes over each request, from dispatch to response, in the log:
//! `CONCORD_LOG=concord::lsp::timing=debug` prints one line per request; requests slower than
//! `SLOW` are logged as warnings (shown at the default level). This is the server-side latency
//! the benchmark reports (a client's round trip adds framing, pipes and its own scheduling).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tower_lsp_server::jsonrpc::{Request, Response};
use tower_service::Service;

const TARGET: &str = "concord::lsp::timing";
const SLOW: Duration = Duration::from_secs(2);

/// A service that times each request of the one it wraps.
pub struct Timed<S>(pub S);

impl<S> Service<Request> for Timed<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // Notifications have no response to time; they return at once.
        let label = request.id().map(|id| format!("{} (id {id})", request.method()));
        let span = tracing::debug_span!("request", method = request.method());
        let start = Instant::now();
        let response = self.0.call(request);
        Box::pin(tracing::Instrument::instrument(
            async move {
                let out = response.await;
                if let Some(label) = label {
                    let elapsed = start.elapsed();
                    if elapsed >= SLOW {
                        tracing::warn!(target: TARGET, "{label} took {} ms", elapsed.as_millis());
                    } else {
                        tracing::debug!(target: TARGET, "{label} took {} ns", elapsed.as_nanos());
                    }
                }
                out
            },
            span,
        ))
    }
}
