//! Every end-to-end and data-driven test, in one binary: linking the crate and its
//! dependencies once is much faster than once per file. Each module is one area; run one with
//! `cargo test --test it <module>::`.

mod common;

mod autopilot;
mod changes;
mod cli;
mod editor_nvim;
mod facts_cache;
mod findings_cache;
mod fixtures;
mod generated;
mod github;
mod guardrails;
mod health;
mod hostile;
mod hostile_input;
mod ingest;
mod items;
mod lsp;
mod lsp_diagnostics;
mod lsp_multiroot;
mod malformed;
mod mcp;
pub(crate) mod orchestration;
mod plan;
mod properties;
mod quality_gates;
mod redaction;
mod remote_locks;
mod report;
mod stale;
mod tools_manifest;
