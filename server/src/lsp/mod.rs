//! The language server: a thin adapter from LSP to the core.

pub fn run_stdio() -> std::process::ExitCode {
    eprintln!("concord lsp: not available in this build");
    std::process::ExitCode::from(2)
}
