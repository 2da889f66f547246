//! A thin client of GitHub's REST API (api.github.com or a GitHub Enterprise `…/api/v3`): open a
//! pull request, label it, and read the checks reported on a commit. The token comes from the
//! environment variable `[github] token_env` names and never appears in a message, a log or a
//! file; every message is scrubbed as the reviewers' are.
//!
//! How a check's word becomes green, pending or red ([`state_of`], [`STATES`]):
//!
//! | GitHub says | counts as |
//! |---|---|
//! | `success`, `neutral`, `skipped` | green |
//! | `failure`, `cancelled`, `timed_out`, `action_required`, `startup_failure`, `stale`, `error` | red |
//! | `queued`, `in_progress`, `pending`, `waiting`, `requested`, `expected` | pending |
//! | anything else | pending: never green until its meaning is known |
//!
//! A check run's word is its `conclusion` once its `status` is `completed`, else its `status`; a
//! commit status's word is its `state` (`error` is a status's word for a failure).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::workspace::Workspace;

/// The default limit of one call; `concord status` uses a shorter one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Pages of 100 check runs read at most for one commit.
const MAX_PAGES: usize = 20;

/// Where the API is and who calls it. The token is private: nothing prints it.
#[derive(Clone)]
pub struct GitHub {
    api_base: String,
    owner: String,
    repo: String,
    token: String,
    /// The variable the token came from, named in messages.
    token_env: String,
    timeout: Duration,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GitHub({} {}/{})", self.api_base, self.owner, self.repo)
    }
}

/// A pull request as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    /// The page people read (`html_url`).
    pub url: String,
    pub head_sha: String,
    pub head_ref: String,
    pub base_ref: String,
    pub draft: bool,
}

/// One check's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Green,
    Pending,
    Red,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Green => "green",
            CheckState::Pending => "pending",
            CheckState::Red => "red",
        }
    }
}

/// The state of the checks that count on a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksState {
    Green,
    Pending,
    Red,
    /// No check was reported (and none is required).
    None,
}

impl ChecksState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksState::Green => "green",
            ChecksState::Pending => "pending",
            ChecksState::Red => "red",
            ChecksState::None => "none reported",
        }
    }
}

/// One check run or commit status that counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckItem {
    pub name: String,
    pub state: CheckState,
    /// Its page (empty for a required check not reported).
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checks {
    pub state: ChecksState,
    pub items: Vec<CheckItem>,
}

impl Checks {
    pub fn named(&self, state: CheckState) -> Vec<&CheckItem> {
        self.items.iter().filter(|i| i.state == state).collect()
    }
}

/// GitHub's words and what they count as (the table at the top of this file).
pub const STATES: &[(&str, CheckState)] = &[
    ("success", CheckState::Green),
    ("neutral", CheckState::Green),
    ("skipped", CheckState::Green),
    ("failure", CheckState::Red),
    ("cancelled", CheckState::Red),
    ("timed_out", CheckState::Red),
    ("action_required", CheckState::Red),
    ("startup_failure", CheckState::Red),
    ("stale", CheckState::Red),
    ("error", CheckState::Red),
    ("queued", CheckState::Pending),
    ("in_progress", CheckState::Pending),
    ("pending", CheckState::Pending),
    ("waiting", CheckState::Pending),
    ("requested", CheckState::Pending),
    ("expected", CheckState::Pending),
];

/// What a check's word counts as; a word not in [`STATES`] is pending.
pub fn state_of(word: &str) -> CheckState {
    STATES.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map_or(CheckState::Pending, |(_, s)| *s)
}

/// The word of a check run: its conclusion once completed, else its status.
fn check_run_word(run: &Value) -> &str {
    let status = run.get("status").and_then(Value::as_str).unwrap_or("pending");
    if status == "completed" {
        run.get("conclusion").and_then(Value::as_str).unwrap_or("pending")
    } else {
        status
    }
}

/// `owner/name` as GitHub allows them, or `None`.
pub fn parse_repo(text: &str) -> Option<(String, String)> {
    let (owner, name) = text.split_once('/')?;
    let owner_ok = !owner.is_empty() && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    (owner_ok && name_ok).then(|| (owner.to_string(), name.to_string()))
}

/// `owner/name` from a github.com remote URL: `https://github.com/o/r(.git)`, `git@github.com:o/r.git`,
/// `ssh://git@github.com/o/r.git`. Other hosts give `None` (name `[github] repo` for them).
pub fn repo_from_remote(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let path = if let Some(rest) = url.strip_prefix("git@github.com:") {
        rest
    } else {
        let rest = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "https" | "http" | "ssh" | "git"))?
            .1;
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = host.split(':').next()?;
        if !host.eq_ignore_ascii_case("github.com") && !host.eq_ignore_ascii_case("www.github.com") {
            return None;
        }
        path
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    parse_repo(path)
}

/// Whether a base URL's host is this machine (`localhost`, `127.x.x.x`, `[::1]`).
pub fn is_loopback(base: &str) -> bool {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    matches!(host.to_ascii_lowercase().as_str(), "localhost" | "::1") || host.starts_with("127.")
}

/// Percent-encode for a path segment or a query value (keeping `/` in a ref, as GitHub's
/// `commits/{ref}` takes branch names with slashes).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GitHub {
    /// A client for `owner/repo` at `api_base` (no trailing slash needed).
    pub fn new(api_base: &str, owner: &str, repo: &str, token: &str, token_env: &str) -> GitHub {
        GitHub {
            api_base: api_base.trim_end_matches('/').to_string(),
            owner: owner.to_string(),
            repo: repo.to_string(),
            token: token.to_string(),
            token_env: token_env.to_string(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The client `[github]` describes, with the token from its variable. The token goes to
    /// api.github.com or a server on this machine; to any other server `concord.toml` names
    /// only from a trusted workspace (`concord trust`), since a cloned repository could name a
    /// server of its own to collect it.
    pub fn from_config(ws: &Workspace) -> Result<GitHub, String> {
        let config = &ws.config.github;
        let base = config.api_base_url.trim_end_matches('/');
        if base != crate::config::GITHUB_API
            && !is_loopback(base)
            && !(super::trust::trusted_by_environment() || super::trust::is_trusted(&ws.root))
        {
            return Err(format!(
                "refusing to send the GitHub token to {base}: concord.toml names that server and {} is not a trusted workspace. If you trust this repository, run `concord trust {}` once (CONCORD_TRUST=1 in CI).",
                ws.root.display(),
                ws.root.display()
            ));
        }
        let token = std::env::var(&config.token_env).ok().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
            format!(
                "no GitHub token: set the environment variable {} (a token with pull_requests:write, checks:read and statuses:read)",
                config.token_env
            )
        })?;
        let (owner, repo) = if config.repo.is_empty() {
            let out = super::git::git_at(&ws.root, &["remote", "get-url", "origin"])
                .map_err(|e| format!("[github] repo is not set and the origin remote cannot be read ({e}); set repo = \"owner/name\" in concord.toml"))?;
            let url = String::from_utf8_lossy(&out).trim().to_string();
            repo_from_remote(&url).ok_or_else(|| {
                format!(
                    "[github] repo is not set and the origin remote {} is not a github.com repository; set repo = \"owner/name\" in concord.toml",
                    super::git::redact_urls(&url)
                )
            })?
        } else {
            parse_repo(&config.repo)
                .ok_or_else(|| format!("[github] repo {:?} is not owner/name", config.repo))?
        };
        Ok(GitHub::new(base, &owner, &repo, token.trim(), &config.token_env))
    }

    /// The same client with another limit per call.
    pub fn with_timeout(mut self, timeout: Duration) -> GitHub {
        self.timeout = timeout;
        self
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn repo(&self) -> &str {
        &self.repo
    }

    fn repo_url(&self, rest: &str) -> String {
        format!("{}/repos/{}/{}/{rest}", self.api_base, self.owner, self.repo)
    }

    /// No message carries the token, whatever GitHub echoed back.
    fn clean(&self, text: &str) -> String {
        let text =
            if self.token.len() >= 4 { text.replace(&self.token, "[redacted]") } else { text.to_string() };
        super::scrub::text(&text)
    }

    /// One request; a 2xx answer's JSON and `Link` header, or what went wrong in words.
    /// `needs` names the token permission the call uses, for the 401/403 messages.
    fn call(&self, method: &str, url: &str, body: Option<&Value>, needs: &str) -> Result<Answer, Failure> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let auth = format!("Bearer {}", self.token);
        let headers = [
            ("accept", "application/vnd.github+json"),
            ("x-github-api-version", "2022-11-28"),
            ("user-agent", "concord"),
            ("authorization", auth.as_str()),
        ];
        let started = Instant::now();
        let result = match body {
            Some(body) => {
                let mut request = agent.post(url).header("content-type", "application/json");
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request.send(super::scrub::text(&body.to_string()))
            }
            None => {
                let mut request = agent.get(url);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request.call()
            }
        };
        let shown = url.strip_prefix(&self.api_base).unwrap_or(url);
        let mut response = result.map_err(|e| Failure {
            status: 0,
            message: self.clean(&if started.elapsed() >= self.timeout {
                format!("GitHub did not answer {method} {shown} within {}s", self.timeout.as_secs())
            } else {
                format!("cannot reach GitHub at {} ({e})", self.api_base)
            }),
        })?;
        let status = response.status().as_u16();
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let link = header("link");
        let rate_left = header("x-ratelimit-remaining");
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(Answer { value, link });
        }
        let said = github_message(&value, &text);
        let message = match status {
            401 => format!(
                "GitHub refused the token (401 {said}): set {} to a token with {needs}",
                self.token_env
            ),
            403 | 429 if rate_left.as_deref() == Some("0") => {
                format!("GitHub's rate limit is used up ({status} {said}): try again later")
            }
            403 => format!(
                "GitHub forbade {method} {shown} (403 {said}): the token in {} needs {needs}",
                self.token_env
            ),
            404 => format!(
                "GitHub found nothing at {method} {shown} (404 {said}): check [github] repo = \"{}/{}\" and that the token in {} can see it",
                self.owner, self.repo, self.token_env
            ),
            422 => format!("GitHub rejected {method} {shown} (422 {said})"),
            _ => format!("GitHub answered {method} {shown} with HTTP {status} ({said})"),
        };
        Err(Failure { status, message: self.clean(&message) })
    }
}

struct Answer {
    value: Value,
    link: Option<String>,
}

struct Failure {
    status: u16,
    message: String,
}

/// GitHub's `message`, and the `errors[].message` (or code) a 422 adds, in one line.
fn github_message(value: &Value, text: &str) -> String {
    let mut said = value.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
        let text: String = text.chars().take(200).collect();
        if text.trim().is_empty() {
            "no message".into()
        } else {
            text.trim().to_string()
        }
    });
    let details: Vec<String> = value
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e.get("message").and_then(Value::as_str).or_else(|| e.get("code").and_then(Value::as_str))
        })
        .map(str::to_string)
        .collect();
    if !details.is_empty() {
        said = format!("{said}: {}", details.join("; "));
    }
    said.replace(['\n', '\r'], " ")
}

fn pull_request_of(value: &Value) -> Result<PullRequest, String> {
    let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string();
    let number =
        value.get("number").and_then(Value::as_u64).ok_or("GitHub's answer has no pull-request number")?;
    Ok(PullRequest {
        number,
        url: text("/html_url"),
        head_sha: text("/head/sha"),
        head_ref: text("/head/ref"),
        base_ref: text("/base/ref"),
        draft: value.get("draft").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// Open a pull request of `head` into `base` (`POST /repos/{o}/{r}/pulls`). When one is open
/// for the branch already (422 "A pull request already exists"), that one is returned.
pub fn open_pull_request(
    gh: &GitHub,
    head: &str,
    base: &str,
    title: &str,
    body: &str,
    draft: bool,
) -> Result<PullRequest, String> {
    let request = json!({ "title": title, "head": head, "base": base, "body": body, "draft": draft });
    let needs = "pull_requests:write";
    match gh.call("POST", &gh.repo_url("pulls"), Some(&request), needs) {
        Ok(answer) => pull_request_of(&answer.value),
        Err(failure) if failure.status == 422 && failure.message.contains("already exists") => {
            // `head` may already be `owner:branch` (a fork); the lookup wants that form.
            let qualified =
                if head.contains(':') { head.to_string() } else { format!("{}:{head}", gh.owner) };
            let url = gh.repo_url(&format!("pulls?head={}&state=open", encode(&qualified, false)));
            let answer = gh.call("GET", &url, None, needs).map_err(|f| f.message)?;
            let first = answer.value.as_array().and_then(|a| a.first()).ok_or_else(|| {
                format!("{} but GitHub lists no open pull request for {qualified}", failure.message)
            })?;
            pull_request_of(first)
        }
        Err(failure) => Err(failure.message),
    }
}

/// Add labels to pull request (issue) `number`; labels GitHub does not know yet are created.
pub fn add_labels(gh: &GitHub, number: u64, labels: &[&str]) -> Result<(), String> {
    if labels.is_empty() {
        return Ok(());
    }
    let url = gh.repo_url(&format!("issues/{number}/labels"));
    gh.call("POST", &url, Some(&json!({ "labels": labels })), "pull_requests:write (or issues:write)")
        .map(|_| ())
        .map_err(|f| f.message)
}

/// Whether a `Link` header has a `rel="next"` page.
fn has_next(link: Option<&str>) -> bool {
    link.is_some_and(|l| l.split(',').any(|part| part.contains("rel=\"next\"")))
}

/// Every element of `key` over the pages of `path` (100 a page), while GitHub says there is a
/// next page (`Link`) or fewer than `total_count` were read.
fn all_pages(gh: &GitHub, path: &str, key: &str, needs: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for page in 1..=MAX_PAGES {
        let url = gh.repo_url(&format!("{path}?per_page=100&page={page}"));
        let answer = gh.call("GET", &url, None, needs).map_err(|f| f.message)?;
        let items = answer
            .value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| format!("GitHub's answer to GET {path} has no `{key}` list"))?;
        let read = items.len();
        out.extend(items);
        let total = answer.value.get("total_count").and_then(Value::as_u64).unwrap_or(0) as usize;
        if read == 0 || !(has_next(answer.link.as_deref()) || out.len() < total) {
            return Ok(out);
        }
    }
    Err(format!(
        "more than {} check runs on one commit: Concord reads at most {MAX_PAGES} pages",
        MAX_PAGES * 100
    ))
}

/// The checks on `git_ref` (a commit SHA, or a branch): its check runs and its commit statuses.
/// With `required` empty every reported check counts; else only those names do, and a required
/// name nobody reported is pending.
pub fn checks(gh: &GitHub, git_ref: &str, required: &[String]) -> Result<Checks, String> {
    let at = format!("commits/{}", encode(git_ref, true));
    let runs = all_pages(gh, &format!("{at}/check-runs"), "check_runs", "checks:read")?;
    let statuses = all_pages(gh, &format!("{at}/status"), "statuses", "statuses:read")?;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut reported: Vec<CheckItem> = runs
        .iter()
        .map(|run| CheckItem {
            name: text(run, "name"),
            state: state_of(check_run_word(run)),
            url: run
                .get("html_url")
                .and_then(Value::as_str)
                .map_or_else(|| text(run, "details_url"), str::to_string),
        })
        .chain(statuses.iter().map(|status| CheckItem {
            name: text(status, "context"),
            state: state_of(status.get("state").and_then(Value::as_str).unwrap_or("pending")),
            url: text(status, "target_url"),
        }))
        .collect();
    Ok(summarise(&mut reported, required))
}

/// The summary of `reported` under `required` (see [`checks`]).
pub fn summarise(reported: &mut Vec<CheckItem>, required: &[String]) -> Checks {
    let mut items: Vec<CheckItem> = if required.is_empty() {
        std::mem::take(reported)
    } else {
        let mut counted: Vec<CheckItem> =
            reported.iter().filter(|i| required.iter().any(|r| r == &i.name)).cloned().collect();
        for name in required {
            if !counted.iter().any(|i| &i.name == name) {
                counted.push(CheckItem {
                    name: name.clone(),
                    state: CheckState::Pending,
                    url: String::new(),
                });
            }
        }
        counted
    };
    items.sort_by(|a, b| a.name.cmp(&b.name));
    let state = if items.is_empty() {
        ChecksState::None
    } else if items.iter().any(|i| i.state == CheckState::Red) {
        ChecksState::Red
    } else if items.iter().any(|i| i.state == CheckState::Pending) {
        ChecksState::Pending
    } else {
        ChecksState::Green
    };
    Checks { state, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_word_maps_as_the_table_says() {
        let table: &[(&[&str], CheckState)] = &[
            (&["success", "neutral", "skipped"], CheckState::Green),
            (
                &[
                    "failure",
                    "cancelled",
                    "timed_out",
                    "action_required",
                    "startup_failure",
                    "stale",
                    "error",
                ],
                CheckState::Red,
            ),
            (&["queued", "in_progress", "pending", "waiting", "requested", "expected"], CheckState::Pending),
            (&["", "something_new"], CheckState::Pending),
        ];
        for (words, state) in table {
            for word in *words {
                assert_eq!(state_of(word), *state, "{word}");
            }
        }
        assert_eq!(STATES.len(), 16, "every word in STATES is in the table above");
        let run = |status: &str, conclusion: Value| json!({ "status": status, "conclusion": conclusion });
        assert_eq!(state_of(check_run_word(&run("completed", json!("failure")))), CheckState::Red);
        assert_eq!(state_of(check_run_word(&run("in_progress", Value::Null))), CheckState::Pending);
        assert_eq!(state_of(check_run_word(&run("completed", Value::Null))), CheckState::Pending);
    }

    #[test]
    fn remote_urls_name_the_repository_on_github_com_only() {
        let acme = Some(("acme".to_string(), "shop".to_string()));
        for url in [
            "https://github.com/acme/shop.git",
            "https://github.com/acme/shop",
            "https://github.com/acme/shop/",
            "https://user:secret@github.com/acme/shop.git",
            "git@github.com:acme/shop.git",
            "git@github.com:acme/shop",
            "ssh://git@github.com/acme/shop.git",
            "ssh://git@github.com:22/acme/shop.git",
            "  https://github.com/acme/shop.git\n",
        ] {
            assert_eq!(repo_from_remote(url), acme, "{url}");
        }
        assert_eq!(
            repo_from_remote("git@github.com:acme/my.site.git"),
            Some(("acme".into(), "my.site".into()))
        );
        for url in [
            "https://gitlab.com/acme/shop.git",
            "git@gitlab.com:acme/shop.git",
            "https://github.com.evil.example/acme/shop",
            "https://github.com/acme",
            "https://github.com/acme/shop/tree/main",
            "file:///srv/git/shop.git",
            "/srv/git/shop.git",
            "",
        ] {
            assert_eq!(repo_from_remote(url), None, "{url}");
        }
    }

    #[test]
    fn required_names_count_alone_and_missing_ones_are_pending() {
        let item = |name: &str, state| CheckItem { name: name.into(), state, url: String::new() };
        let reported = vec![item("lint", CheckState::Red), item("build", CheckState::Green)];
        assert_eq!(summarise(&mut reported.clone(), &[]).state, ChecksState::Red);
        let build = summarise(&mut reported.clone(), &["build".to_string()]);
        assert_eq!((build.state, build.items.len()), (ChecksState::Green, 1));
        let missing = summarise(&mut reported.clone(), &["build".to_string(), "deploy".to_string()]);
        assert_eq!(missing.state, ChecksState::Pending);
        assert_eq!(missing.named(CheckState::Pending)[0].name, "deploy");
        assert_eq!(summarise(&mut Vec::new(), &[]).state, ChecksState::None);
    }

    #[test]
    fn loopback_hosts_are_told_from_lookalikes() {
        for base in ["http://localhost:8080", "http://127.0.0.1:9/api", "http://[::1]:80/"] {
            assert!(is_loopback(base), "{base}");
        }
        for base in
            ["https://api.github.com", "http://localhost.example.com", "http://127.0.0.1@evil.example/"]
        {
            assert!(!is_loopback(base), "{base}");
        }
    }
}
