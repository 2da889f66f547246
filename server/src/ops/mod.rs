//! Operations that change the workspace or ask git: locks, scope checks, the pre-commit hook.
//! Commands run as argument vectors, never through a shell.

pub mod git;
pub mod hook;
pub mod locks;
