//! `concord autopilot`: dispatch → review → apply, item after item, each in its own branch and
//! git worktree, committed with trace trailers once accepted, pushed and proposed as a draft pull
//! request only when asked. Bounded (items, runs, minutes, rework rounds, cost) and stopping:
//! the first failed dispatch, crashed or undecided review, or red health ends the loop with
//! every touched item in a true state and one message saying what to do next.

mod branch;
mod incidents;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::model::{Status, WorkItem};
use crate::ops::{apply, dispatch, review};
use crate::workspace::Workspace;

/// `[autopilot]` of concord.toml; the command line overrides the limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Items worked on in one loop.
    pub max_items: u32,
    /// Agent runs (dispatches) in one loop, rework included.
    pub max_runs: u32,
    /// Wall-clock limit of the loop; a run still going then is stopped.
    pub max_minutes: f64,
    /// Wall-clock limit of one item, all its rounds together.
    pub item_minutes: f64,
    /// Rework rounds after an item's first run.
    pub max_rework: u32,
    /// Items worked on at once, each in its own worktree and lock.
    pub parallel: u32,
    /// Push each accepted item's branch.
    pub push: bool,
    /// Open a draft pull request for each pushed branch.
    pub open_pr: bool,
    pub remote: String,
    /// The branch work starts from and pull requests target (empty: the checkout's branch).
    pub base_branch: String,
    /// The lock holder's name (`autopilot`, or `autopilot-1`, `-2`, … in parallel).
    pub agent: String,
    /// Commands that must pass on the default branch before the loop dispatches anything,
    /// besides every work item's own `smoke_checks`.
    pub smoke_checks: Vec<String>,
    /// The loop stops once the providers' reported usage, priced below, reaches this (0: no cap).
    pub max_cost_usd: f64,
    /// An item stops once its own usage reaches this (0: no cap).
    pub item_max_cost_usd: f64,
    /// Prices by model name (a key also prices the models whose names start with it).
    pub prices: BTreeMap<String, Price>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// US dollars per million input tokens.
    pub input_per_mtok: f64,
    /// US dollars per million output tokens.
    pub output_per_mtok: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_items: 5,
            max_runs: 10,
            max_minutes: 120.0,
            item_minutes: 60.0,
            max_rework: 3,
            parallel: 1,
            push: false,
            open_pr: false,
            remote: "origin".into(),
            base_branch: String::new(),
            agent: "autopilot".into(),
            smoke_checks: Vec::new(),
            max_cost_usd: 0.0,
            item_max_cost_usd: 0.0,
            prices: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// The key and message of the first value that cannot work.
    pub fn check(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, message: &str| Err((key.to_string(), message.to_string()));
        for (key, value) in [("max_items", self.max_items), ("max_runs", self.max_runs)] {
            if value == 0 {
                return fail(key, "must be at least 1");
            }
        }
        for (key, value) in [("max_minutes", self.max_minutes), ("item_minutes", self.item_minutes)] {
            if !value.is_finite() || value <= 0.0 {
                return fail(key, "must be a number of minutes above 0 (0.5 is thirty seconds)");
            }
        }
        if !(1..=16).contains(&self.parallel) {
            return fail("parallel", "must be between 1 and 16");
        }
        if self.max_rework > 20 {
            return fail("max_rework", "must be at most 20");
        }
        if self.agent.is_empty()
            || !self.agent.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return fail("agent", "use letters, digits, `.`, `_` and `-` (it names the lock file)");
        }
        if self.remote.is_empty() || self.remote.starts_with('-') {
            return fail("remote", "must name a git remote");
        }
        for (key, value) in
            [("max_cost_usd", self.max_cost_usd), ("item_max_cost_usd", self.item_max_cost_usd)]
        {
            if !value.is_finite() || value < 0.0 {
                return fail(key, "must be a number of dollars, 0 or more");
            }
        }
        for (model, price) in &self.prices {
            for (field, value) in
                [("input_per_mtok", price.input_per_mtok), ("output_per_mtok", price.output_per_mtok)]
            {
                if !value.is_finite() || value < 0.0 {
                    return Err((
                        format!("prices.{model}.{field}"),
                        "prices are dollars per million tokens, 0 or more".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The price of `model`: its own entry, or the longest entry its name starts with.
    fn price(&self, model: &str) -> Option<&Price> {
        self.prices.get(model).or_else(|| {
            self.prices
                .iter()
                .filter(|(k, _)| model.starts_with(k.as_str()))
                .max_by_key(|(k, _)| k.len())
                .map(|(_, p)| p)
        })
    }
}

/// The command line's choices; `None` keeps `[autopilot]`'s.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub max_items: Option<u32>,
    pub max_runs: Option<u32>,
    pub max_minutes: Option<f64>,
    pub parallel: Option<u32>,
    pub push: bool,
    pub open_pr: bool,
    pub dry_run: bool,
    /// Start although `concord health` is red: for a red that only new runs can clear (a reviewer
    /// that failed before its key was fixed, a run of failures whose cause was fixed).
    pub ignore_red_health: bool,
    /// Overrides `dispatch.agent_cli`.
    pub cli: Option<String>,
    /// Overrides `dispatch.model`.
    pub model: Option<String>,
}

/// How one item ended in the loop.
#[derive(Debug, Clone)]
struct ItemEnd {
    id: String,
    /// Its queue status when the loop left it.
    status: Status,
    branch: Option<String>,
    commit: Option<String>,
    /// `push: done`, `push: skipped (no remote origin)`, `pull request: #12 …`.
    steps: Vec<String>,
    /// Its work was accepted (done, or awaiting a person) and committed on its branch.
    accepted: bool,
    /// What happened, in one sentence.
    note: String,
}

#[derive(Debug)]
pub struct Outcome {
    /// Every item ended accepted and the loop stopped only at a limit it was given or for lack
    /// of eligible work.
    pub ok: bool,
    pub message: String,
}

/// Limits resolved from the settings and the command line.
struct Limits {
    max_items: u32,
    max_runs: u32,
    loop_deadline: Instant,
    item_time: Duration,
    max_rework: u32,
    parallel: u32,
    push: bool,
    open_pr: bool,
}

/// What the loop shares between its workers.
struct Shared {
    in_flight: Vec<(String, Vec<String>)>,
    started: u32,
    runs: u32,
    cost: f64,
    /// Why no new item may start (a failure, a limit).
    stop: Option<String>,
    failed: bool,
    ends: Vec<ItemEnd>,
}

struct Loop<'a> {
    root: PathBuf,
    queue: PathBuf,
    settings: Settings,
    limits: Limits,
    options: &'a Options,
    base: String,
    default_branch: String,
    cancel: &'a Arc<AtomicBool>,
    progress: &'a (dyn Fn(&str) + Sync),
    shared: Mutex<Shared>,
    /// Worktree changes and applies, one at a time.
    git_and_apply: Mutex<()>,
}

/// Run the loop (or, with `dry_run`, say what it would do). `progress` hears each step.
pub fn run(
    ws: &Workspace,
    options: &Options,
    cancel: &Arc<AtomicBool>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Outcome, String> {
    crate::ops::scrub::use_config(&ws.config);
    let settings = ws.config.autopilot.clone();
    let limits = Limits {
        max_items: options.max_items.unwrap_or(settings.max_items).max(1),
        max_runs: options.max_runs.unwrap_or(settings.max_runs).max(1),
        loop_deadline: Instant::now() + minutes(options.max_minutes.unwrap_or(settings.max_minutes)),
        item_time: minutes(settings.item_minutes),
        max_rework: settings.max_rework,
        parallel: options.parallel.unwrap_or(settings.parallel).clamp(1, 16),
        push: options.push || settings.push,
        open_pr: options.open_pr || settings.open_pr,
    };
    let Some(base) = crate::ops::git::head(&ws.root) else {
        return Err(
            "the autopilot works on branches: the workspace must be a git repository with a commit".into()
        );
    };
    let default_branch = if settings.base_branch.is_empty() {
        branch::current_branch(&ws.root)
            .ok_or("the checkout is not on a branch (detached HEAD): check out the default branch, or set [autopilot] base_branch")?
    } else {
        settings.base_branch.clone()
    };
    if default_branch.starts_with("concord/") {
        return Err(format!("the checkout is on {default_branch}, one of the autopilot's own branches: check out the default branch first"));
    }
    if settings.max_cost_usd > 0.0 || settings.item_max_cost_usd > 0.0 {
        for model in [&ws.config.review.openai_model, &ws.config.review.anthropic_model] {
            if settings.price(model).is_none() {
                return Err(format!("a cost cap is set, but [autopilot.prices] has no price for {model}: add `[autopilot.prices.\"{model}\"] input_per_mtok = …, output_per_mtok = …`"));
            }
        }
    }
    if options.dry_run {
        return Ok(dry_run(ws, &limits, options, &default_branch));
    }
    if limits.open_pr && !limits.push {
        return Err(
            "--open-pr needs the branch on the remote: add --push (or [autopilot] push = true)".into()
        );
    }

    let looped = Loop {
        root: ws.root.clone(),
        queue: ws.root.join(&ws.config.paths.queue),
        settings,
        limits,
        options,
        base,
        default_branch,
        cancel,
        progress,
        shared: Mutex::new(Shared {
            in_flight: Vec::new(),
            started: 0,
            runs: 0,
            cost: 0.0,
            stop: None,
            failed: false,
            ends: Vec::new(),
        }),
        git_and_apply: Mutex::new(()),
    };
    if let Err(why) = looped.preflight(ws) {
        return Ok(Outcome {
            ok: false,
            message: format!("The autopilot did not start: {why}. No item was dispatched."),
        });
    }
    std::thread::scope(|scope| {
        for worker in 0..looped.limits.parallel {
            let looped = &looped;
            scope.spawn(move || looped.worker(worker));
        }
    });
    Ok(looped.finish())
}

impl Loop<'_> {
    /// The workspace's model (ops files and the spec), with no source file scanned: all that
    /// eligibility, review, apply and health read. Only dispatch scans the sources (the task
    /// file names the places whose spec changed), through the facts cache.
    fn model_only(&self) -> Result<Workspace, String> {
        Workspace::load_paths(&self.root, &[]).map_err(|e| e.to_string())
    }

    fn say(&self, line: &str) {
        (self.progress)(&crate::ops::scrub::text(line));
    }

    fn agent_name(&self, worker: u32) -> String {
        if self.limits.parallel == 1 {
            self.settings.agent.clone()
        } else {
            format!("{}-{}", self.settings.agent, worker + 1)
        }
    }

    /// Before any dispatch: the project's health, and the default branch's smoke checks run
    /// in a worktree of its own commit.
    fn preflight(&self, ws: &Workspace) -> Result<(), String> {
        for line in crate::ops::pull_requests::settle(ws) {
            self.say(&line);
        }
        if self.limits.open_pr {
            let gh = crate::ops::github::GitHub::from_config(ws)?;
            let checks =
                crate::ops::github::checks(&gh, &self.default_branch, &ws.config.github.required_checks)
                    .map_err(|e| {
                        format!("the default branch {}'s checks cannot be read: {e}", self.default_branch)
                    })?;
            if checks.state == crate::ops::github::ChecksState::Red {
                return Err(format!(
                    "the default branch {}'s own checks are red ({}): fix the default branch first",
                    self.default_branch,
                    crate::ops::pull_requests::describe(&checks)
                ));
            }
        }
        let mut commands: Vec<String> = self.settings.smoke_checks.clone();
        for item in dispatch::in_priority_order(ws) {
            for command in &item.smoke_checks {
                if !commands.contains(command) {
                    commands.push(command.clone());
                }
            }
        }
        if commands.is_empty() {
            return self.check_health();
        }
        self.say(&format!("smoke checks on {} ({} commands)", self.default_branch, commands.len()));
        let dir = branch::add_detached(&self.root, "smoke-check", &self.base)?;
        let timeout = Duration::from_secs(ws.config.test_timeout_secs);
        let results: Vec<_> = commands
            .iter()
            .take_while(|_| !self.cancel.load(Ordering::SeqCst))
            .map(|c| crate::ops::commands::run_test(c, &dir, timeout, self.cancel))
            .collect();
        branch::remove_worktree(&self.root, &dir);
        let failed: Vec<&str> = results.iter().filter(|r| !r.passed).map(|r| r.command.as_str()).collect();
        let passed = failed.is_empty() && results.len() == commands.len();
        let record = serde_json::json!({
            "at": crate::time::format_rfc3339(crate::time::now_secs()),
            "passed": passed,
            "failed": failed,
        });
        let smoke_file = self.root.join(crate::ops::health::SMOKE_FILE);
        let _ = smoke_file.parent().map(std::fs::create_dir_all);
        let _ = crate::fsutil::write_atomic(&smoke_file, (record.to_string() + "\n").as_bytes());
        if !passed {
            let details: Vec<String> = results
                .iter()
                .filter(|r| !r.passed)
                .map(|r| format!("`{}` ({})", r.command, r.summary))
                .collect();
            return Err(format!(
                "the default branch {}'s smoke checks fail: {}. Fix the default branch first (a change made on a red base cannot be judged)",
                self.default_branch,
                if details.is_empty() { "cancelled".to_string() } else { details.join(", ") }
            ));
        }
        self.check_health()
    }

    /// `concord health` (with the smoke checks just recorded): red stops the loop unless the
    /// owner says the cause is fixed.
    fn check_health(&self) -> Result<(), String> {
        let ws = self.model_only()?;
        let health = crate::ops::health::health(&ws);
        if health.level != crate::formats::HealthLevel::Red {
            return Ok(());
        }
        let reasons: Vec<String> = health
            .reasons
            .iter()
            .filter(|r| r.level == crate::formats::HealthLevel::Red)
            .map(|r| format!("{} (next: {})", r.text, r.next))
            .collect();
        if self.options.ignore_red_health {
            self.say(&format!("health is red, started anyway (--ignore-red-health): {}", reasons.join("; ")));
            return Ok(());
        }
        Err(format!(
            "`concord health` is red: {}. Once the cause is fixed, start it with --ignore-red-health",
            reasons.join("; ")
        ))
    }

    /// One worker: take the next item no other worker has, until a stop or a limit.
    fn worker(&self, worker: u32) {
        let agent = self.agent_name(worker);
        loop {
            let Some(item) = self.next_item() else { return };
            let end = self.work_on(&item, &agent);
            let mut shared = self.shared.lock().expect("not poisoned");
            shared.in_flight.retain(|(id, _)| *id != item.id);
            shared.ends.push(end);
        }
    }

    fn stop(&self, why: String, failed: bool) {
        let mut shared = self.shared.lock().expect("not poisoned");
        if shared.stop.is_none() {
            shared.stop = Some(why);
        }
        shared.failed |= failed;
    }

    /// The next eligible item whose scope overlaps no item in flight, or `None` when the loop
    /// must stop (recording why).
    fn next_item(&self) -> Option<WorkItem> {
        let mut shared = self.shared.lock().expect("not poisoned");
        if shared.stop.is_some() {
            return None;
        }
        if self.cancel.load(Ordering::SeqCst) {
            shared.stop = Some("it was cancelled".into());
            shared.failed = true;
            return None;
        }
        if shared.started >= self.limits.max_items {
            shared.stop.get_or_insert(format!("it reached its limit of {} items", self.limits.max_items));
            return None;
        }
        if shared.runs >= self.limits.max_runs {
            shared.stop.get_or_insert(format!("it reached its limit of {} runs", self.limits.max_runs));
            return None;
        }
        if Instant::now() >= self.limits.loop_deadline {
            shared.stop.get_or_insert("it reached its time limit".into());
            shared.failed = true;
            return None;
        }
        let ws = match self.model_only() {
            Ok(ws) => ws,
            Err(e) => {
                shared.stop = Some(format!("the workspace could not be read: {e}"));
                shared.failed = true;
                return None;
            }
        };
        let next = dispatch::in_priority_order(&ws).into_iter().find(|item| {
            !shared.in_flight.iter().any(|(id, scope)| {
                *id == item.id || crate::globs::first_overlap(&item.scope_paths, scope).is_some()
            }) && dispatch::eligibility(&ws, item).is_ok()
        });
        match next {
            Some(item) => {
                shared.started += 1;
                shared.in_flight.push((item.id.clone(), item.scope_paths.clone()));
                Some(item.clone())
            }
            None if shared.in_flight.is_empty() => {
                shared.stop.get_or_insert("no work item is eligible".into());
                None
            }
            // Others are still working: what they finish may make more items eligible, but the
            // loop keeps it simple and lets this worker end.
            None => None,
        }
    }

    /// Take one run from the loop's budget; `Err` when none is left.
    fn take_run(&self) -> Result<(), String> {
        let mut shared = self.shared.lock().expect("not poisoned");
        if let Some(why) = &shared.stop {
            return Err(format!("the loop is stopping ({why})"));
        }
        if shared.runs >= self.limits.max_runs {
            return Err(format!("the loop's limit of {} runs is reached", self.limits.max_runs));
        }
        shared.runs += 1;
        Ok(())
    }

    fn add_cost(&self, cost: f64) -> f64 {
        let mut shared = self.shared.lock().expect("not poisoned");
        shared.cost += cost;
        shared.cost
    }

    /// Dispatch, review and apply `item` until it is accepted, a round limit stops it, or the
    /// loop must stop.
    fn work_on(&self, item: &WorkItem, agent: &str) -> ItemEnd {
        let started = Instant::now();
        let mut end = ItemEnd {
            id: item.id.clone(),
            status: Status::Todo,
            branch: None,
            commit: None,
            steps: Vec::new(),
            accepted: false,
            note: String::new(),
        };
        let wanted = branch::branch_name(&item.id, &item.title);
        let made = {
            let _git = self.git_and_apply.lock().expect("not poisoned");
            let name = branch::free_branch(&self.root, &wanted);
            branch::add_worktree(&self.root, &name, &self.base).map(|dir| (name, dir))
        };
        let (branch_name, dir) = match made {
            Ok(made) => made,
            Err(e) => {
                end.note = format!("no worktree could be made: {e}");
                self.stop(format!("{}: {}", item.id, end.note), true);
                return end;
            }
        };
        self.say(&format!("{}: working in branch {branch_name}", item.id));
        end.branch = Some(branch_name.clone());
        let mut last_failure: Option<String> = None;
        let mut item_cost = 0.0;
        let rounds = self.limits.max_rework + 1;
        for round in 1..=rounds {
            end.status = self.status_of(&item.id);
            if self.cancel.load(Ordering::SeqCst) {
                end.note = "the loop was cancelled".into();
                self.stop("it was cancelled".into(), true);
                break;
            }
            if let Err(why) = self.take_run() {
                end.note = format!("not dispatched again: {why}");
                break;
            }
            let now = Instant::now();
            let left = self
                .limits
                .loop_deadline
                .saturating_duration_since(now)
                .min(self.limits.item_time.saturating_sub(now - started));
            if left.is_zero() {
                end.note = "its time ran out before another round".into();
                self.stop(format!("{}: the time limit was reached", item.id), true);
                break;
            }
            let (outcome, cost) = self.round(item, agent, &dir, left, round);
            item_cost += cost;
            let total = self.add_cost(cost);
            let over_loop_cap = self.settings.max_cost_usd > 0.0 && total >= self.settings.max_cost_usd;
            if over_loop_cap {
                self.stop(
                    format!(
                        "the loop's cost cap was reached (${total:.2} of ${:.2})",
                        self.settings.max_cost_usd
                    ),
                    true,
                );
            }
            match outcome {
                Round::Accepted { status, run, review } => {
                    end.status = status;
                    self.accept(item, &dir, &branch_name, &run, &review, &mut end);
                    self.release_unproposed(item, &mut end);
                    break;
                }
                Round::Rework { failure } => {
                    end.status = Status::Todo;
                    if last_failure.as_ref() == Some(&failure) {
                        end.note = format!("the same gates failed twice in a row ({failure})");
                        end.status = self.block(item, &end.note);
                        break;
                    }
                    if self.settings.item_max_cost_usd > 0.0 && item_cost >= self.settings.item_max_cost_usd {
                        end.note = format!(
                            "its cost cap was reached (${item_cost:.2} of ${:.2})",
                            self.settings.item_max_cost_usd
                        );
                        end.status = self.block(item, &end.note);
                        break;
                    }
                    if over_loop_cap {
                        end.note =
                            format!("not sent round again: the loop's cost cap was reached (${total:.2})");
                        break;
                    }
                    if round == rounds {
                        end.note = format!(
                            "{} rework rounds did not get it accepted (last: {failure})",
                            self.limits.max_rework
                        );
                        end.status = self.block(item, &end.note);
                        break;
                    }
                    self.say(&format!("{}: round {round} needs rework: {failure}", item.id));
                    last_failure = Some(failure);
                }
                Round::Stop { why } => {
                    end.status = self.status_of(&item.id);
                    end.note = why.clone();
                    self.stop(format!("{}: {why}", item.id), true);
                    break;
                }
            }
        }
        {
            let _git = self.git_and_apply.lock().expect("not poisoned");
            branch::remove_worktree(&self.root, &dir);
            branch::delete_if_empty(&self.root, &branch_name, &self.base);
        }
        if end.commit.is_none() {
            end.branch = end.branch.filter(|b| branch::branch_exists(&self.root, b));
        }
        end
    }

    fn status_of(&self, id: &str) -> Status {
        crate::ops::queue::current_status(&self.queue, id)
    }

    /// Stop an item for a person: `blocked`, with the reason in the queue.
    fn block(&self, item: &WorkItem, why: &str) -> Status {
        let reason = format!(
            "stopped by the autopilot: {why}; a person must look before it runs again (`concord requeue {}`)",
            item.id
        );
        let event = crate::ops::queue::Event::new(&item.id, Status::Blocked, "autopilot", &reason);
        let _ = crate::ops::queue::append(&self.queue, &event);
        self.status_of(&item.id)
    }

    /// One round: dispatch into the worktree, review, apply; and what its usage cost.
    fn round(&self, item: &WorkItem, agent: &str, dir: &Path, left: Duration, round: u32) -> (Round, f64) {
        let mut cost = 0.0;
        let outcome = self.round_costing(item, agent, dir, left, round, &mut cost);
        (outcome, cost)
    }

    fn round_costing(
        &self,
        item: &WorkItem,
        agent: &str,
        dir: &Path,
        left: Duration,
        round: u32,
        cost: &mut f64,
    ) -> Round {
        let ws = match Workspace::load_cached(&self.root, crate::workspace::CacheUse::ReadWrite, None) {
            Ok(ws) => ws,
            Err(e) => return Round::Stop { why: format!("the workspace could not be read: {e}") },
        };
        self.say(&format!("{}: dispatching round {round}", item.id));
        let request = dispatch::Request {
            id: Some(&item.id),
            cli: self.options.cli.as_deref(),
            model: self.options.model.as_deref(),
            work_dir: Some(dir),
            timeout: Some(left),
            ..dispatch::Request::new(agent)
        };
        let run = match dispatch::dispatch(&ws, &request, self.cancel) {
            Err(e) => return Round::Stop { why: format!("dispatch refused: {e}") },
            Ok(outcome) if !outcome.ok => {
                return Round::Stop { why: format!("the run failed: {}", outcome.message) }
            }
            Ok(outcome) => outcome.run_id,
        };
        let ws = match self.model_only() {
            Ok(ws) => ws,
            Err(e) => return Round::Stop { why: format!("the workspace could not be read: {e}") },
        };
        self.say(&format!("{}: reviewing run {run}", item.id));
        let outcome = match review::review_with(&ws, &review::Options { run: Some(&run), no_llm: false }, self.cancel) {
            Ok(outcome) => outcome,
            Err(e) => {
                return Round::Stop {
                    why: format!("the review crashed: {e}; it stays in review (`concord review {run}` when the cause is fixed)"),
                }
            }
        };
        *cost = self.priced(&outcome.usage) + agent_cost(&crate::ops::agents::run_dir(&self.root, &run));
        let rel = crate::workspace::relative(&ws.root, &outcome.json_path).unwrap_or_default();
        let applied = {
            let _apply = self.git_and_apply.lock().expect("not poisoned");
            apply::apply_with(&ws, Some(&rel), "autopilot", self.limits.open_pr)
        };
        if let Err(e) = applied {
            return Round::Stop { why: format!("the review decision {rel} could not be applied: {e}") };
        }
        if let Some(error) = &outcome.reviewer_error {
            let title = format!("Reviewer unreachable: {}", incidents::signature(error));
            let recorded =
                self.model_only().and_then(|ws| incidents::record_once(&ws, &item.id, &title, error));
            let note = match recorded {
                Ok(Some(id)) => format!(" (recorded as {id})"),
                Ok(None) => " (recorded before)".into(),
                Err(e) => format!(" (could not be recorded: {e})"),
            };
            return Round::Stop { why: format!("the review could not be decided: {error}{note}") };
        }
        let status = self.status_of(&item.id);
        match status {
            Status::Done | Status::AwaitingApproval | Status::AwaitingChecks => {
                Round::Accepted { status, run, review: rel }
            }
            Status::Todo => Round::Rework { failure: failure_signature(&outcome.gates, &outcome.decision) },
            other => Round::Stop { why: format!("the review left it {} ({rel})", other.as_str()) },
        }
    }

    /// The dollars `usage` cost at the configured prices.
    fn priced(&self, usage: &[crate::ops::llm::Usage]) -> f64 {
        usage
            .iter()
            .filter_map(|u| {
                let price = self.settings.price(&u.model)?;
                Some(
                    u.input_tokens as f64 * price.input_per_mtok / 1e6
                        + u.output_tokens as f64 * price.output_per_mtok / 1e6,
                )
            })
            .sum()
    }

    /// Commit the accepted work on its branch, push it and propose it, each step recorded.
    fn accept(
        &self,
        item: &WorkItem,
        dir: &Path,
        branch_name: &str,
        run: &str,
        review_rel: &str,
        end: &mut ItemEnd,
    ) {
        let ws = match self.model_only() {
            Ok(ws) => ws,
            Err(e) => {
                end.note = format!("accepted, but the workspace could not be read to commit it: {e}");
                return;
            }
        };
        let files = match files_to_commit(&ws, item, dir, &self.base) {
            Ok(files) => files,
            Err(e) => {
                end.note = format!("accepted, but not committed: {e}");
                self.stop(format!("{}: {}", item.id, end.note), true);
                return;
            }
        };
        if files.is_empty() {
            end.accepted = true;
            end.note = "accepted with no file changed in its scope: nothing to commit".into();
            return;
        }
        let decision = std::fs::read_to_string(ws.root.join(review_rel))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .unwrap_or_default();
        let message = commit_message(&ws, item, run, review_rel, &decision);
        let committed = {
            let _git = self.git_and_apply.lock().expect("not poisoned");
            branch::commit(dir, &files, &message)
        };
        match committed {
            Ok(commit) => {
                self.say(&format!("{}: committed {} files on {branch_name}", item.id, files.len()));
                end.commit = Some(commit);
                end.accepted = true;
                end.note = format!("accepted ({}), committed on {branch_name}", end.status.as_str());
            }
            Err(e) => {
                end.note = format!("accepted, but the commit failed: {e}");
                self.stop(format!("{}: {}", item.id, end.note), true);
                return;
            }
        }
        if !self.limits.push {
            end.steps.push("push: not asked (--push)".into());
            return;
        }
        match branch::push(dir, &self.settings.remote, branch_name, &self.default_branch) {
            Ok(()) => end.steps.push(format!("push: {branch_name} to {}", self.settings.remote)),
            Err(why) => {
                end.steps.push(format!("push: skipped ({why}); the branch is kept"));
                if self.limits.open_pr {
                    end.steps.push("pull request: skipped (the branch is not on the remote)".into());
                }
                return;
            }
        }
        if self.limits.open_pr {
            end.steps.push(self.propose(&ws, item, branch_name, end, &decision, (run, review_rel)));
        }
    }

    /// Accepted work held for pull-request checks that got no pull request has nothing to wait
    /// for: it becomes done, saying why.
    fn release_unproposed(&self, item: &WorkItem, end: &mut ItemEnd) {
        if end.status != Status::AwaitingChecks || end.steps.iter().any(|s| s.starts_with("pull request: #"))
        {
            return;
        }
        let why = end.steps.last().cloned().unwrap_or_else(|| "no pull request".into());
        let reason = format!("accepted; no pull request holds it ({why})");
        let event = crate::ops::queue::Event::new(&item.id, Status::Done, "autopilot", &reason);
        if crate::ops::queue::append(&self.queue, &event).is_ok() {
            end.status = Status::Done;
        }
    }

    /// The draft pull request of an accepted, pushed item, labelled `needs-owner` when it
    /// awaits a person. A failure is recorded as skipped; the branch stays pushed.
    fn propose(
        &self,
        ws: &Workspace,
        item: &WorkItem,
        branch_name: &str,
        end: &ItemEnd,
        decision: &serde_json::Value,
        (run, review_rel): (&str, &str),
    ) -> String {
        let gh = match crate::ops::github::GitHub::from_config(ws) {
            Ok(gh) => gh,
            Err(e) => return format!("pull request: skipped ({e})"),
        };
        let body = pull_request_body(ws, item, end, decision, review_rel);
        let opening = crate::ops::pull_requests::Opening {
            wbs: &item.id,
            branch: branch_name,
            base: &self.default_branch,
            title: &format!("{}: {}", item.id, item.title),
            body: &body,
            run: Some(run),
            draft: true,
        };
        let opened = match crate::ops::pull_requests::open_and_record(ws, &gh, &opening) {
            Ok(opened) => opened,
            Err(e) => return format!("pull request: skipped ({e})"),
        };
        let mut line = format!("pull request: #{} (draft) {}", opened.number, opened.url);
        if end.status == Status::AwaitingApproval {
            match crate::ops::github::add_labels(&gh, opened.number, &["needs-owner"]) {
                Ok(()) => line.push_str(", labelled needs-owner"),
                Err(e) => line.push_str(&format!(", not labelled needs-owner: {e}")),
            }
        }
        line
    }

    fn finish(self) -> Outcome {
        let shared = self.shared.into_inner().expect("not poisoned");
        let mut ends = shared.ends;
        ends.sort_by(|a, b| a.id.cmp(&b.id));
        let ok = !shared.failed && ends.iter().all(|e| e.accepted);
        let why = shared.stop.unwrap_or_else(|| "its work is done".into());
        let mut message = format!(
            "The autopilot {} after {} runs on {} items: {why}.\n",
            if ok { "finished" } else { "stopped" },
            shared.runs,
            ends.len()
        );
        if shared.cost > 0.0 {
            message.push_str(&format!("Reported usage cost ${:.2}.\n", shared.cost));
        }
        for end in &ends {
            message.push_str(&format!("- {}: {}. {}", end.id, end.status.as_str(), end.note));
            if let (Some(branch), Some(commit)) = (&end.branch, &end.commit) {
                message.push_str(&format!(" ({branch} at {})", &commit[..commit.len().min(12)]));
            }
            message.push('\n');
            for step in &end.steps {
                message.push_str(&format!("  {step}\n"));
            }
        }
        let next = if ends.is_empty() {
            "Next: `concord status` says why each work item waits."
        } else if ends.iter().any(|e| e.status == Status::AwaitingApproval) {
            "Next: approve what awaits a person (`concord approve ID`), and look at `concord status`."
        } else if ok {
            "Next: review the branches (or their pull requests) and merge what you accept; `concord status` shows the queue."
        } else {
            "Next: read the reason above, fix it, then run `concord status` and start the autopilot again."
        };
        message.push_str(next);
        Outcome { ok, message: crate::ops::scrub::text(&message) }
    }
}

fn minutes(minutes: f64) -> Duration {
    Duration::try_from_secs_f64(minutes * 60.0).unwrap_or(Duration::from_secs(60))
}

enum Round {
    Accepted { status: Status, run: String, review: String },
    Rework { failure: String },
    Stop { why: String },
}

/// What failed, in words that repeat exactly when the same thing fails again.
fn failure_signature(gates: &[review::Gate], decision: &serde_json::Value) -> String {
    let failed: Vec<String> = gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{}: {}", g.name, incidents::signature(&g.detail)))
        .collect();
    if failed.is_empty() {
        format!(
            "the reviewers sent it back: {}",
            incidents::signature(decision["summary"].as_str().unwrap_or(""))
        )
    } else {
        failed.join("; ")
    }
}

/// The cost a dispatched agent reported itself (`total_cost_usd` in its JSON result), if any.
fn agent_cost(run_dir: &Path) -> f64 {
    let Ok(text) = std::fs::read_to_string(run_dir.join("stdout.log")) else { return 0.0 };
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
        .find_map(|v| v.get("total_cost_usd").and_then(serde_json::Value::as_f64))
        .filter(|c| c.is_finite() && *c >= 0.0)
        .unwrap_or(0.0)
}

/// The accepted run's files: changed in the worktree since the base, inside the item's scope,
/// not Concord's own bookkeeping, and free of secrets.
fn files_to_commit(ws: &Workspace, item: &WorkItem, dir: &Path, base: &str) -> Result<Vec<String>, String> {
    let changes = dispatch::counted_changes(ws, dir, item, &[], base, &Default::default())?;
    let scope = crate::scope::scope_set(&item.scope_paths);
    let mut files = Vec::new();
    let mut leaks = Vec::new();
    for change in changes {
        if !scope.is_match(&change.path) {
            continue;
        }
        if let Ok(bytes) = crate::fsutil::read_regular(&dir.join(&change.path), ws.config.max_file_size) {
            if crate::workspace::unscannable(&bytes).is_none() {
                for secret in ws.config.secrets().scan_file(&change.path, &String::from_utf8_lossy(&bytes)) {
                    leaks.push(format!("{}: {} ({})", change.path, secret.description, secret.redacted));
                }
            }
        }
        files.push(change.path);
    }
    if !leaks.is_empty() {
        return Err(format!("a secret is in the files to commit: {}", leaks.join("; ")));
    }
    Ok(files)
}

/// `WBS-005: Title`, the decision's summary, and the trailers that trace the commit.
fn commit_message(
    ws: &Workspace,
    item: &WorkItem,
    run: &str,
    review_rel: &str,
    decision: &serde_json::Value,
) -> String {
    let summary = decision["summary"].as_str().unwrap_or("").trim();
    let refs: Vec<&str> = item.blueprint_ids.iter().map(|(id, _)| id.as_str()).collect();
    let mut trailers = vec![format!("Implements: {}", item.id)];
    if !refs.is_empty() {
        trailers.push(format!("Refs: {}", refs.join(", ")));
    }
    trailers.push(format!("Concord-Run: {run}"));
    trailers.push(format!(
        "Concord-Review: {} ({review_rel})",
        decision["decision"].as_str().unwrap_or("unknown")
    ));
    // A run under a lock granted on the shared remote names its fencing token too.
    if let Some(trailer) =
        std::fs::read_to_string(crate::ops::agents::run_dir(&ws.root, run).join("lock.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["trailer"].as_str().map(str::to_string))
    {
        trailers.push(trailer);
    }
    let body = if summary.is_empty() { String::new() } else { format!("\n{summary}\n") };
    format!("{}: {}\n{body}\n{}\n", item.id, item.title, trailers.join("\n"))
}

/// The pull request's description: the run's summary, risk, gates with results, tests run, the
/// chunks with their titles, and the review decision.
fn pull_request_body(
    ws: &Workspace,
    item: &WorkItem,
    end: &ItemEnd,
    decision: &serde_json::Value,
    review_rel: &str,
) -> String {
    let mut body = format!(
        "Work item **{}**: {}\n\n{}\n\n| | |\n|---|---|\n| Risk | {} |\n| Review | **{}** → {} (`{review_rel}`) |\n| Status | {} |\n",
        item.id,
        item.title,
        decision["summary"].as_str().unwrap_or("").trim(),
        item.risk.as_str(),
        decision["decision"].as_str().unwrap_or("?"),
        decision["recommended_status"].as_str().unwrap_or("?"),
        end.status.as_str(),
    );
    let gates_path = ws.root.join(review_rel.replace(".json", ".gates.json"));
    let gates: Option<crate::formats::GatesFile> =
        std::fs::read_to_string(gates_path).ok().and_then(|t| serde_json::from_str(&t).ok());
    if let Some(gates) = gates {
        body.push_str("\n### Gates\n");
        for gate in &gates.gates {
            body.push_str(&format!(
                "- {} **{}**: {}\n",
                gate.name,
                if gate.passed { "PASS" } else { "FAIL" },
                gate.detail
            ));
        }
    }
    if !item.test_commands.is_empty() {
        body.push_str("\n### Tests run\n");
        for command in &item.test_commands {
            body.push_str(&format!("- `{command}`\n"));
        }
    }
    if !item.blueprint_ids.is_empty() {
        body.push_str("\n### Spec chunks\n");
        for (id, _) in &item.blueprint_ids {
            let title = ws.model.chunks.get(id).map_or("(not in the index)", |c| c.title.as_str());
            body.push_str(&format!("- {id}: {title}\n"));
        }
    }
    for (title, key) in [("Risks", "risks"), ("Follow-ups", "followups")] {
        let entries = decision[key].as_array().cloned().unwrap_or_default();
        if !entries.is_empty() {
            body.push_str(&format!("\n### {title}\n"));
            for entry in entries {
                let text = entry.as_str().map(str::to_string).unwrap_or_else(|| {
                    entry["title"].as_str().or(entry["summary"].as_str()).unwrap_or("").to_string()
                });
                body.push_str(&format!("- {text}\n"));
            }
        }
    }
    if end.status == Status::AwaitingApproval {
        body.push_str("\nThis item needs the owner's approval: `concord approve ");
        body.push_str(&item.id);
        body.push_str("`.\n");
    }
    body.push_str("\nOpened as a draft by the Concord autopilot; it never merges.\n");
    crate::ops::scrub::text(&body)
}

/// What the loop would do now: the eligible items in order, and why each other item waits.
fn dry_run(ws: &Workspace, limits: &Limits, options: &Options, default_branch: &str) -> Outcome {
    let cli = options.cli.as_deref().unwrap_or(&ws.config.dispatch.agent_cli);
    let model = options.model.as_deref().unwrap_or(&ws.config.dispatch.model);
    let with = if model.is_empty() { cli.to_string() } else { format!("{cli} ({model})") };
    let mut message = format!(
        "Autopilot plan (dry run; nothing is changed): from {default_branch}, at most {} items, {} runs, {} at once; push {}, pull requests {}.\n",
        limits.max_items,
        limits.max_runs,
        limits.parallel,
        if limits.push { "yes" } else { "no" },
        if limits.open_pr { "yes" } else { "no" },
    );
    let mut planned: Vec<&WorkItem> = Vec::new();
    let mut waiting = Vec::new();
    for item in dispatch::in_priority_order(ws) {
        match dispatch::eligibility(ws, item) {
            Ok(())
                if (planned.len() as u32) < limits.max_items
                    && !planned.iter().any(|p| {
                        crate::globs::first_overlap(&p.scope_paths, &item.scope_paths).is_some()
                            && limits.parallel > 1
                    }) =>
            {
                planned.push(item)
            }
            Ok(()) => waiting.push(format!(
                "{}: eligible, but beyond this loop's limit of {} items",
                item.id, limits.max_items
            )),
            Err(why) => {
                let done_in_loop: Vec<&str> = item
                    .depends_on
                    .iter()
                    .filter(|(dep, _)| planned.iter().any(|p| p.id == *dep))
                    .map(|(dep, _)| dep.as_str())
                    .collect();
                let later = if done_in_loop.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} is planned in this loop; it may become eligible after)",
                        done_in_loop.join(", ")
                    )
                };
                waiting.push(format!("{}: not eligible: {why}{later}", item.id));
            }
        }
    }
    if planned.is_empty() {
        message.push_str("No item is eligible now.\n");
    }
    for (n, item) in planned.iter().enumerate() {
        message.push_str(&format!(
            "{}. {} {} (risk {}) with {with}, on branch {}\n",
            n + 1,
            item.id,
            item.title,
            item.risk.as_str(),
            branch::free_branch(&ws.root, &branch::branch_name(&item.id, &item.title))
        ));
    }
    if !waiting.is_empty() {
        message.push_str("Not in this loop:\n");
        for line in waiting {
            message.push_str(&format!("- {line}\n"));
        }
    }
    Outcome { ok: true, message }
}
