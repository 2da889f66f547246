//! The command line: a thin adapter over the core. Exit codes: 0 nothing at or above
//! `--fail-on`, 1 findings at or above it, 2 a usage or configuration error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::{analyze, Report};
use crate::coverage;
use crate::findings::Severity;
use crate::render;
use crate::workspace::Workspace;

#[derive(Debug, Parser)]
#[command(
    name = "concord",
    version,
    about = "Keeps the spec, the work plan, agents' locks and the code in enforced agreement."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report traceability findings for a workspace (exit 1 when any is at or above --fail-on).
    Check(CheckArgs),
    /// Regenerate the crosswalk (chunk → work items → code → tests) and print coverage.
    Crosswalk(CrosswalkArgs),
    /// Run the language server on stdin/stdout.
    Lsp,
    /// Explain a finding code (or list them all).
    Explain { code: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Error,
    Warning,
    Info,
    Hint,
    Never,
}

impl Level {
    fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::Error),
            Level::Warning => Some(Severity::Warning),
            Level::Info => Some(Severity::Info),
            Level::Hint => Some(Severity::Hint),
            Level::Never => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The workspace root (default: the current directory).
    pub path: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: Level,
    /// Leave out findings below this severity (default: warning for text, hint for json and sarif).
    #[arg(long, value_enum)]
    pub min_severity: Option<Level>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CrosswalkArgs {
    /// The workspace root (default: the current directory).
    pub path: Option<PathBuf>,
    /// Do not write: exit 1 if the crosswalk on disk is out of date.
    #[arg(long)]
    pub check: bool,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Crosswalk(args) => crosswalk(args),
        Command::Lsp => crate::lsp::run_stdio(),
        Command::Explain { code } => explain(code.as_deref()),
    }
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("concord: {message}");
    ExitCode::from(2)
}

fn load(path: Option<&Path>) -> Result<Workspace, ExitCode> {
    let root = path.unwrap_or(Path::new("."));
    Workspace::load(root).map_err(usage_error)
}

fn check(args: CheckArgs) -> ExitCode {
    let ws = match load(args.path.as_deref()) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let report = analyze(&ws);
    let default_min = if args.format == Format::Text { Level::Warning } else { Level::Hint };
    let min = args.min_severity.unwrap_or(default_min).severity().unwrap_or(Severity::Error);
    let root = args.path.as_deref().map_or(".".to_string(), |p| p.display().to_string());
    let out = match args.format {
        Format::Text => render::render_text(&report, min),
        Format::Json => render::render_json(&report, &root, min),
        Format::Sarif => render::render_sarif(&report, min),
    };
    match &args.output {
        Some(file) => {
            if let Err(e) = crate::fsutil::write_atomic(file, out.as_bytes()) {
                return usage_error(format!("cannot write {}: {e}", file.display()));
            }
        }
        None => print!("{out}"),
    }
    exit_for(&report, args.fail_on)
}

fn exit_for(report: &Report, fail_on: Level) -> ExitCode {
    match fail_on.severity() {
        Some(threshold) if report.findings.iter().any(|f| f.severity >= threshold) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn crosswalk(args: CrosswalkArgs) -> ExitCode {
    let ws = match load(args.path.as_deref()) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let coverage = coverage::compute(&ws.config, &ws.model, ws.files.values());
    let text = coverage.to_crosswalk_json();
    let target = ws.root.join(&ws.config.paths.crosswalk);
    let rel = &ws.config.paths.crosswalk;
    let current = std::fs::read_to_string(&target).ok();
    print!("{}", render::render_coverage_summary(&coverage.summary()));
    if args.check {
        if current.as_deref() == Some(text.as_str()) {
            println!("{rel} is up to date");
            return ExitCode::SUCCESS;
        }
        println!("{rel} is out of date: run `concord crosswalk` and commit the result");
        return ExitCode::from(1);
    }
    if current.as_deref() == Some(text.as_str()) {
        println!("{rel} is up to date");
    } else if let Err(e) = crate::fsutil::write_atomic(&target, text.as_bytes()) {
        return usage_error(format!("cannot write {rel}: {e}"));
    } else {
        println!("wrote {rel} ({} chunks)", coverage.chunks.len());
    }
    ExitCode::SUCCESS
}

fn explain(code: Option<&str>) -> ExitCode {
    use crate::findings::Code;
    match code {
        None => {
            for code in Code::ALL {
                println!("{:<18} {:<8} {}", code.as_str(), code.default_severity().as_str(), code.summary());
            }
            ExitCode::SUCCESS
        }
        Some(name) => match Code::parse(name) {
            Some(code) => {
                println!(
                    "{} (default severity: {})\n\n{}\n\nWhat to do: {}",
                    code.as_str(),
                    code.default_severity().as_str(),
                    code.summary(),
                    code.help()
                );
                ExitCode::SUCCESS
            }
            None => usage_error(format!("unknown finding code {name:?}; `concord explain` lists them")),
        },
    }
}
