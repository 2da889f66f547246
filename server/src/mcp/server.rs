//! The protocol adapter: `rmcp`'s router over [`Tools`], the chunk and work-item resources,
//! stdio. Each call runs on a blocking thread (a panic there becomes a tool error, never the end
//! of the server), and each answer is structured content plus a one-line text.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, ErrorData, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

use super::tools::{
    AcquireArgs, AgentArgs, Answer, CheckArgs, CoverageArgs, LookupArgs, ReleaseArgs, SearchArgs,
    SuggestArgs, ToolError, Tools,
};

#[derive(Clone)]
pub struct Server {
    tools: Arc<Tools>,
    tool_router: ToolRouter<Server>,
}

/// An answer as a tool result: the data as structured content, `summary — next: …` as text.
pub fn to_result(outcome: Result<Answer, ToolError>) -> CallToolResult {
    match outcome {
        Ok(answer) => {
            let mut result = CallToolResult::structured(answer.data);
            result.content = vec![ContentBlock::text(format!("{} — next: {}", answer.summary, answer.next))];
            result
        }
        Err(ToolError(message)) => {
            let message = crate::ops::scrub::text(&message);
            let mut result = CallToolResult::structured_error(json!({ "error": message }));
            result.content = vec![ContentBlock::text(message)];
            result
        }
    }
}

impl Server {
    pub fn new(tools: Tools) -> Server {
        Server { tools: Arc::new(tools), tool_router: Self::tool_router() }
    }

    async fn run(&self, name: &'static str, arguments: Value) -> Result<CallToolResult, ErrorData> {
        let tools = self.tools.clone();
        let outcome =
            tokio::task::spawn_blocking(move || tools.call(name, arguments)).await.unwrap_or_else(|e| {
                Err(ToolError(format!("{name} failed inside the server ({e}); the server keeps running")))
            });
        Ok(to_result(outcome))
    }
}

fn value<T: serde::Serialize>(args: &T) -> Value {
    serde_json::to_value(args).unwrap_or(Value::Null)
}

#[tool_router]
impl Server {
    /// The calling agent's lock: its task, scope globs, change budget used and left, and the
    /// files it changed (git, since the lock was taken) outside its scope.
    #[tool(annotations(title = "Who am I, what is my scope", read_only_hint = true))]
    async fn whoami_scope(
        &self,
        Parameters(args): Parameters<AgentArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("whoami_scope", value(&args)).await
    }

    /// A chunk's or work item's facts (as the editor's hover shows them), with the chunk's
    /// markdown text.
    #[tool(annotations(title = "Look up an ID", read_only_hint = true))]
    async fn lookup(&self, Parameters(args): Parameters<LookupArgs>) -> Result<CallToolResult, ErrorData> {
        self.run("lookup", value(&args)).await
    }

    /// Spec chunks (and work items) ranked for a query by BM25 over titles and summaries.
    #[tool(annotations(title = "Search the spec", read_only_hint = true))]
    async fn search_spec(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("search_spec", value(&args)).await
    }

    /// The ranked IDs to tag a file (or one function, method or class in it) with.
    #[tool(annotations(title = "Suggest IDs for code", read_only_hint = true))]
    async fn suggest_ids(
        &self,
        Parameters(args): Parameters<SuggestArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("suggest_ids", value(&args)).await
    }

    /// The findings for the agent's changed files (or the paths given): scope, other agents'
    /// locks, secrets, unknown IDs, untraced files and items, change budget.
    #[tool(annotations(title = "Check my changes", read_only_hint = true))]
    async fn check_changes(
        &self,
        Parameters(args): Parameters<CheckArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("check_changes", value(&args)).await
    }

    /// A chunk's, a work item's or a topic's coverage: work items, code and test files, status.
    #[tool(annotations(title = "Coverage", read_only_hint = true))]
    async fn coverage(
        &self,
        Parameters(args): Parameters<CoverageArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("coverage", value(&args)).await
    }

    /// The agent's current task: its run's task file, acceptance criteria and test commands.
    #[tool(annotations(title = "My task", read_only_hint = true))]
    async fn task(&self, Parameters(args): Parameters<AgentArgs>) -> Result<CallToolResult, ErrorData> {
        self.run("task", value(&args)).await
    }

    /// Take the lock for a work item (refused when its scope overlaps a live lock). Only in a
    /// trusted workspace.
    #[tool(annotations(title = "Take a lock", read_only_hint = false, destructive_hint = false))]
    async fn lock_acquire(
        &self,
        Parameters(args): Parameters<AcquireArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("lock_acquire", value(&args)).await
    }

    /// Give the agent's lock back. Only in a trusted workspace.
    #[tool(annotations(title = "Give a lock back", read_only_hint = false, destructive_hint = true))]
    async fn lock_release(
        &self,
        Parameters(args): Parameters<ReleaseArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.run("lock_release", value(&args)).await
    }
}

const INSTRUCTIONS: &str = "Concord keeps the spec (chunk IDs like TD-0103), the work items (WBS-005), agents' locks and the code in agreement. Start with whoami_scope (your lock and scope) and task (what to do); use search_spec and lookup for the spec, suggest_ids to tag code, and check_changes before you finish. Every tool takes `cwd`, the workspace root.";

/// A resource URI's kind and ID: `concord://chunk/TD-0103`, `concord://wbs/WBS-005`.
pub fn parse_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("concord://")?;
    let (kind, id) = rest.split_once('/')?;
    matches!(kind, "chunk" | "wbs")
        .then_some((kind, id))
        .filter(|(_, id)| !id.is_empty() && !id.contains('/'))
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("concord", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let tools = self.tools.clone();
        let listed = tokio::task::spawn_blocking(move || -> Result<Vec<Resource>, String> {
            let root = tools.session.resolve_root(None)?;
            let (snap, _) = tools.session.snapshot(&root)?;
            let model = &snap.loaded.ws.model;
            let chunks = model.chunks.values().map(|c| {
                Resource::new(format!("concord://chunk/{}", c.id), c.id.clone())
                    .with_title(format!("{} {}", c.id, c.title))
                    .with_description(
                        super::tools::scrub_value(Value::String(c.summary.clone()))
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    )
                    .with_mime_type("text/markdown")
            });
            let work = model.work.values().map(|w| {
                Resource::new(format!("concord://wbs/{}", w.id), w.id.clone())
                    .with_title(format!("{} {}", w.id, w.title))
                    .with_description(format!("work item, status {}", model.status_of(&w.id).as_str()))
                    .with_mime_type("text/markdown")
            });
            Ok(chunks.chain(work).collect())
        })
        .await
        .map_err(|e| ErrorData::internal_error(format!("listing the resources failed: {e}"), None))?
        .map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(ListResourcesResult::with_all_items(listed))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("concord://chunk/{id}", "chunk")
                .with_description("A spec chunk: its facts and markdown text")
                .with_mime_type("text/markdown"),
            ResourceTemplate::new("concord://wbs/{id}", "work item")
                .with_description("A work item: status, risk, lock, criteria, chunks")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.clone();
        let Some((kind, id)) = parse_uri(&uri) else {
            return Err(ErrorData::resource_not_found(
                format!("{uri} is not a Concord resource: concord://chunk/<ID> or concord://wbs/<ID>"),
                None,
            ));
        };
        let (kind, id) = (kind.to_string(), id.to_string());
        let tools = self.tools.clone();
        let read = tokio::task::spawn_blocking(move || tools.call("lookup", json!({ "id": id })))
            .await
            .map_err(|e| ErrorData::internal_error(format!("reading {uri} failed: {e}"), None))?;
        let answer = read.map_err(|ToolError(message)| ErrorData::resource_not_found(message, None))?;
        let is_chunk = answer.data["kind"] == "chunk";
        if is_chunk != (kind == "chunk") {
            return Err(ErrorData::resource_not_found(
                format!(
                    "{uri}: {} is a {}; use concord://{}/{}",
                    answer.data["id"].as_str().unwrap_or(""),
                    if is_chunk { "chunk" } else { "work item" },
                    if is_chunk { "chunk" } else { "wbs" },
                    answer.data["id"].as_str().unwrap_or("")
                ),
                None,
            ));
        }
        let markdown = resource_markdown(&answer.data);
        let facts = serde_json::to_string_pretty(&answer.data).unwrap_or_default();
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(markdown, request.uri.clone()).with_mime_type("text/markdown"),
            ResourceContents::text(facts, request.uri).with_mime_type("application/json"),
        ])
        .into())
    }
}

/// A resource's markdown: the chunk's own section when it has one, else its title and summary;
/// a work item's title, status and criteria.
fn resource_markdown(data: &Value) -> String {
    let s = |k: &str| data[k].as_str().unwrap_or("").to_string();
    if let Some(text) = data["text"].as_str() {
        return text.to_string();
    }
    if data["kind"] == "chunk" {
        return format!("# {} {}\n\n{}\n", s("id"), s("title"), s("summary"));
    }
    let mut out = format!("# {} {}\n\nStatus {} · risk {}\n", s("id"), s("title"), s("status"), s("risk"));
    let list = |key: &str| -> Vec<String> {
        data[key]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    };
    for (title, key) in [
        ("Acceptance criteria", "acceptance_criteria"),
        ("Test commands", "test_commands"),
        ("Smoke checks", "smoke_checks"),
        ("Quality gates", "quality_gates"),
        ("Scope", "scope_paths"),
    ] {
        let items = list(key);
        if !items.is_empty() {
            out.push_str(&format!("\n## {title}\n"));
            for item in items {
                out.push_str(&format!("- {item}\n"));
            }
        }
    }
    if let Some(chunks) = data["chunks"].as_array().filter(|c| !c.is_empty()) {
        out.push_str("\n## Chunks\n");
        for c in chunks {
            out.push_str(&format!(
                "- {} {}\n",
                c["id"].as_str().unwrap_or(""),
                c["title"].as_str().unwrap_or("(unknown)")
            ));
        }
    }
    out
}

/// Serve on stdin/stdout until the client closes the connection.
pub fn run_stdio(tools: Tools) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("concord mcp: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let service = match Server::new(tools).serve(rmcp::transport::stdio()).await {
            Ok(service) => service,
            Err(e) => {
                eprintln!("concord mcp: the client did not complete the handshake: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        match service.waiting().await {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("concord mcp: {e}");
                std::process::ExitCode::from(1)
            }
        }
    })
}
