//! Running a work item's test commands as gates. A command is split into words like a shell
//! would (quotes, backslashes); one that uses shell operators (pipes, `&&`, redirections,
//! variables) is given to `sh -c` as written, since that is what its author meant.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct TestResult {
    pub command: String,
    pub passed: bool,
    /// One line: exit code, timeout, or why it could not start.
    pub summary: String,
    /// stdout and stderr, kept for the review (secrets redacted by the caller).
    pub output: String,
}

/// Split a command line into words as a POSIX shell would (`shlex`); `None` when it needs a
/// shell, or has an unterminated quote.
pub fn split_words(line: &str) -> Option<Vec<String>> {
    if needs_shell(line) {
        return None;
    }
    shlex::split(line)
}

/// Whether the line uses what only a shell does: operators, redirections, substitutions or
/// globs outside single quotes (inside double quotes only `$` and backquotes still expand).
fn needs_shell(line: &str) -> bool {
    let mut chars = line.chars();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => {
                chars.next();
            }
            (Some('"'), '$' | '`') => return true,
            (Some('"'), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '|' | '&' | ';' | '<' | '>' | '$' | '`' | '(' | ')' | '*' | '?' | '~') => return true,
            _ => {}
        }
    }
    false
}

/// Run one test command; `cancel` (SIGINT/SIGTERM) stops its whole process group.
pub fn run_test(command: &str, cwd: &Path, timeout: Duration, cancel: &Arc<AtomicBool>) -> TestResult {
    let argv = split_words(command).unwrap_or_else(|| vec!["sh".into(), "-c".into(), command.into()]);
    match super::agents::run(&argv, cwd, &super::agents::RunOptions::new(timeout, cancel)) {
        Err(e) => TestResult { command: command.into(), passed: false, summary: e, output: String::new() },
        Ok(done) => {
            let output = format!("{}{}", done.stdout, done.stderr);
            let (passed, summary) = match (done.timed_out, done.exit_code) {
                _ if done.cancelled => (false, "interrupted".into()),
                (true, _) => (false, format!("stopped after {}s", timeout.as_secs())),
                (false, Some(0)) => (true, "exit code 0".into()),
                (false, Some(code)) => (false, format!("exit code {code}")),
                (false, None) => (false, "killed by a signal".into()),
            };
            TestResult { command: command.into(), passed, summary, output }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_a_shell() {
        assert_eq!(
            split_words("python3 -m unittest discover -s tests/python -p 'test_pay*.py'"),
            Some(
                ["python3", "-m", "unittest", "discover", "-s", "tests/python", "-p", "test_pay*.py"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            split_words(r#"echo "a b" c\ d"#),
            Some(["echo", "a b", "c d"].map(String::from).to_vec())
        );
        assert_eq!(split_words("make test && echo ok"), None);
        assert_eq!(split_words("pytest $ARGS"), None);
        assert_eq!(split_words("echo 'unterminated"), None);
        assert_eq!(split_words(r#"echo "$HOME""#), None);
        assert_eq!(
            split_words(r#"echo '$HOME' "a|b""#),
            Some(["echo", "$HOME", "a|b"].map(String::from).to_vec())
        );
        assert_eq!(split_words(r"ls \*"), Some(["ls", "*"].map(String::from).to_vec()));
        assert_eq!(split_words("cargo test # all of it"), Some(["cargo", "test"].map(String::from).to_vec()));
    }
}
