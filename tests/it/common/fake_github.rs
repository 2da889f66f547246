//! A fake GitHub REST API on 127.0.0.1 (std::net only): it records every request and answers
//! the routes a test configures, as GitHub documents them: pull-request creation (or 422 when
//! one already exists, with the lookup by head), labels, check runs in pages with a `Link`
//! header, the combined commit status, and 401 for a refused token.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    /// Matches a request target starting with it; the longest match wins.
    prefix: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct FakeGitHub {
    /// The API root to configure (`[github] api_base_url`).
    pub base: String,
    pub owner: String,
    pub repo: String,
    state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// A server for repository `owner/repo`.
    pub fn start(owner: &str, repo: &str) -> FakeGitHub {
        let state: Arc<Mutex<State>> = Arc::default();
        let base = format!("{}/api/v3", super::serve_on_loopback(state.clone(), serve));
        FakeGitHub { base, owner: owner.into(), repo: repo.into(), state }
    }

    /// Answer `method` on targets starting with `/repos/{owner}/{repo}/{rest}`.
    pub fn route(&self, method: &str, rest: &str, status: u16, headers: &[(&str, &str)], body: Value) {
        let prefix = format!("/api/v3/repos/{}/{}/{rest}", self.owner, self.repo);
        let mut state = self.state.lock().unwrap();
        state.routes.retain(|r| !(r.method == method && r.prefix == prefix));
        state.routes.push(Route {
            method: method.into(),
            prefix,
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body,
        });
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// A pull request as GitHub returns it.
    pub fn pull(&self, number: u64, branch: &str, sha: &str, draft: bool) -> Value {
        json!({
            "url": format!("{}/repos/{}/{}/pulls/{number}", self.base, self.owner, self.repo),
            "html_url": format!("https://github.example/{}/{}/pull/{number}", self.owner, self.repo),
            "number": number, "state": "open", "draft": draft, "title": "t",
            "head": { "ref": branch, "sha": sha, "label": format!("{}:{branch}", self.owner) },
            "base": { "ref": "main", "sha": "0000000000000000000000000000000000000000" }
        })
    }

    /// `POST pulls` creates pull request `number`.
    pub fn creates_pull(&self, number: u64, branch: &str, sha: &str) {
        self.route("POST", "pulls", 201, &[], self.pull(number, branch, sha, true));
    }

    /// `POST pulls` answers 422 "already exists"; the open one is listed by head.
    pub fn pull_already_exists(&self, number: u64, branch: &str, sha: &str) {
        self.route(
            "POST",
            "pulls",
            422,
            &[],
            json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "PullRequest", "code": "custom",
                             "message": format!("A pull request already exists for {}:{branch}.", self.owner) }],
                "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
            }),
        );
        self.route("GET", "pulls?", 200, &[], json!([self.pull(number, branch, sha, true)]));
    }

    /// `POST issues/{number}/labels` answers the labels.
    pub fn labels(&self, number: u64) {
        self.route("POST", &format!("issues/{number}/labels"), 200, &[], json!([{ "name": "autopilot" }]));
    }

    /// Check runs of `sha`, `(name, status, conclusion)`, in pages: every page but the last
    /// has a `Link` to the next when `link` is true (else only `total_count` tells).
    pub fn check_runs(&self, sha: &str, pages: &[&[(&str, &str, Option<&str>)]], link: bool) {
        let total: usize = pages.iter().map(|p| p.len()).sum();
        for (i, page) in pages.iter().enumerate() {
            let n = i + 1;
            let runs: Vec<Value> = page
                .iter()
                .map(|(name, status, conclusion)| {
                    json!({ "id": n, "name": name, "status": status, "conclusion": conclusion,
                            "html_url": format!("https://github.example/runs/{name}"),
                            "details_url": format!("https://ci.example/{name}") })
                })
                .collect();
            let next = format!(
                "<{}/repos/{}/{}/commits/{sha}/check-runs?per_page=100&page={}>; rel=\"next\"",
                self.base,
                self.owner,
                self.repo,
                n + 1
            );
            let headers: Vec<(&str, &str)> =
                if link && n < pages.len() { vec![("link", next.as_str())] } else { vec![] };
            self.route(
                "GET",
                &format!("commits/{sha}/check-runs?per_page=100&page={n}"),
                200,
                &headers,
                json!({ "total_count": total, "check_runs": runs }),
            );
        }
    }

    /// The combined status of `sha`: `(context, state)`.
    pub fn statuses(&self, sha: &str, statuses: &[(&str, &str)]) {
        let list: Vec<Value> = statuses
            .iter()
            .map(|(context, state)| {
                json!({ "context": context, "state": state, "target_url": format!("https://ci.example/status/{context}") })
            })
            .collect();
        let combined = if statuses.iter().any(|(_, s)| *s == "failure" || *s == "error") {
            "failure"
        } else if statuses.iter().all(|(_, s)| *s == "success") {
            "success"
        } else {
            "pending"
        };
        self.route(
            "GET",
            &format!("commits/{sha}/status"),
            200,
            &[],
            json!({ "state": combined, "sha": sha, "total_count": list.len(), "statuses": list }),
        );
    }

    /// From now on every request is refused as with a bad token; the body echoes `echo` (a
    /// careless proxy might echo the token it refused).
    pub fn unauthorized(&self, echo: &str) {
        let mut state = self.state.lock().unwrap();
        state.routes.clear();
        state.routes.push(Route {
            method: "*".into(),
            prefix: "/".into(),
            status: 401,
            headers: vec![],
            body: json!({
                "message": if echo.is_empty() { "Bad credentials".to_string() } else { format!("Bad credentials: {echo}") },
                "documentation_url": "https://docs.github.com/rest"
            }),
        });
    }
}

fn serve(stream: std::net::TcpStream, state: &Mutex<State>) {
    let Some(super::HttpRequest { method, path, headers, body }) = super::read_http_request(&stream) else {
        return;
    };
    let route = {
        let mut st = state.lock().unwrap();
        st.requests.push(Request { method: method.clone(), path: path.clone(), headers, body });
        st.routes
            .iter()
            .filter(|r| (r.method == method || r.method == "*") && path.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len())
            .cloned()
    };
    let (status, extra, text) = match route {
        Some(r) => (r.status, r.headers, r.body.to_string()),
        None => (404, vec![], json!({ "message": "Not Found" }).to_string()),
    };
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        text.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(text.as_bytes());
}
