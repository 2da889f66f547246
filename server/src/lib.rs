//! Concord's core: the workspace model, the ID index, the traceability findings, and the
//! adapters (CLI, language server) that present them.

pub mod analysis;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod facts;
pub mod findings;
pub mod findings_cache;
pub mod formats;
pub mod fsutil;
pub mod git_index;
pub mod globs;
pub mod host;
pub mod ids;
pub mod items;
pub mod json;
pub mod languages;
pub mod lsp;
pub mod mcp;
pub mod model;
pub mod ops;
pub mod pages;
pub mod render;
pub mod report_parts;
pub mod scan;
pub mod scope;
pub mod secrets;
pub mod stale;
pub mod suggest;
pub mod text;
pub mod time;
pub mod workspace;
