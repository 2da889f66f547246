//! One file per request or notification family. Each handler is a plain function of the
//! [`Backend`](super::Backend) and the request's parameters; the `LanguageServer` table in
//! `server.rs` only delegates to them.

pub mod code_action;
pub mod code_lens;
pub mod completion;
pub mod configuration;
pub mod definition;
pub mod document_link;
pub mod execute_command;
pub mod hover;
pub mod initialize;
pub mod pull_diagnostics;
pub mod references;
pub mod text_document_sync;
pub mod watched_files;
pub mod workspace_folders;
pub mod workspace_symbol;
