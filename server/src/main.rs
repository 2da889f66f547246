use clap::Parser;

fn main() -> std::process::ExitCode {
    concord::cli::run(concord::cli::Cli::parse())
}
