//! Operations that change the workspace or ask git: locks, scope checks, the pre-commit hook.
//! Commands run as argument vectors, never through a shell.

pub mod agents;
pub mod apply;
pub mod autopilot;
pub mod changes;
pub mod commands;
pub mod dispatch;
pub mod gates;
pub mod git;
pub mod github;
pub mod health;
pub mod hook;
pub mod ingest;
pub mod journal;
pub mod llm;
pub mod locks;
pub mod plan;
pub mod pull_requests;
pub mod questions;
pub mod queue;
pub mod remote_locks;
pub mod report;
pub mod requeue;
pub mod review;
pub mod rollback;
pub mod scrub;
pub mod spec_history;
pub mod tools_manifest;
pub mod trace_lock;
pub mod trust;
