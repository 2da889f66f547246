//! Locks shared through a git remote: a bare repository served by `git daemon` on 127.0.0.1
//! and over `file://`, clones acting as machines, the real `concord` binary racing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CONCORD: &str = env!("CARGO_BIN_EXE_concord");

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A `git daemon` on a free loopback port, killed when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(base: &Path) -> Daemon {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // `git daemon` runs `git-daemon` as a child of its own, which killing `git` would leave
        // serving (with every descriptor the test process had): start the daemon itself.
        let exec_path = Command::new("git").arg("--exec-path").output().expect("git runs").stdout;
        let exec_path = PathBuf::from(String::from_utf8_lossy(&exec_path).trim());
        let child = Command::new(exec_path.join("git-daemon"))
            .args(["--reuseaddr", "--listen=127.0.0.1", "--export-all", "--enable=receive-pack"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "git daemon did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare origin and `n` clones of it, each a machine with `[locks] remote = "origin"`.
struct Team {
    _dir: tempfile::TempDir,
    origin: PathBuf,
    machines: Vec<PathBuf>,
}

fn team(n: usize, url: impl Fn(&Path) -> String) -> Team {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin.git");
    git(dir.path(), &["init", "--quiet", "--bare", origin.to_str().unwrap()]);
    let url = url(dir.path());
    let mut machines = Vec::new();
    for i in 0..n {
        let machine = dir.path().join(format!("machine-{i}"));
        std::fs::create_dir_all(&machine).unwrap();
        git(&machine, &["init", "--quiet"]);
        git(&machine, &["remote", "add", "origin", &url]);
        std::fs::write(
            machine.join("concord.toml"),
            "[locks]\nremote = \"origin\"\nremote_timeout = \"20s\"\n",
        )
        .unwrap();
        machines.push(machine);
    }
    Team { _dir: dir, origin, machines }
}

fn concord(machine: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(CONCORD);
    command.args(args).arg("--workspace").arg(machine).env_remove("CONCORD_AGENT");
    command
}

fn run(machine: &Path, args: &[&str]) -> Output {
    concord(machine, args).output().expect("concord runs")
}

fn acquire_args<'a>(agent: &'a str, task: &'a str, scope: &'a str) -> Vec<&'a str> {
    vec!["lock", "acquire", "--agent", agent, "--task", task, "--scope", scope]
}

/// The lock files on the origin's lock ref (agent names), or None when the ref is absent.
/// Every file must parse: a lock as JSON naming its agent, `generation` as a number.
fn remote_locks(origin: &Path) -> Option<(i64, Vec<String>)> {
    let head = Command::new("git")
        .arg("-C")
        .arg(origin)
        .args(["rev-parse", "--verify", "-q", "refs/concord/locks"])
        .output()
        .unwrap();
    if !head.status.success() {
        return None;
    }
    let listing = git(origin, &["ls-tree", "--name-only", "refs/concord/locks"]);
    let mut agents = Vec::new();
    let mut generation = None;
    for name in String::from_utf8_lossy(&listing.stdout).lines() {
        let blob = git(origin, &["show", &format!("refs/concord/locks:{name}")]);
        let text = String::from_utf8(blob.stdout).unwrap();
        if name == "generation" {
            generation = Some(text.trim().parse::<i64>().expect("generation is a number"));
        } else {
            let value: serde_json::Value = serde_json::from_str(&text).expect("a whole lock");
            let agent = name.strip_suffix(".lock").expect("only lock files");
            assert_eq!(value["agent"], agent);
            assert!(value["fencing_token"].as_i64().is_some(), "{text}");
            agents.push(agent.to_string());
        }
    }
    agents.sort();
    Some((generation.expect("a generation file"), agents))
}

/// Rounds of six machines acquiring at once: four overlapping scopes (exactly one may win) and
/// two disjoint ones (both must win). The winners then release together.
fn race(team: &Team, rounds: usize) {
    let overlapping = ["src/shared/**", "src/shared/a.rs", "src/**/*.rs", "src/shared/*"];
    let mut last_generation = 0;
    for round in 0..rounds {
        let agents: Vec<String> = (0..6).map(|i| format!("R{round}-M{i}")).collect();
        let own = [format!("docs/m4-{round}/**"), format!("docs/m5-{round}/**")];
        let children: Vec<Child> = (0..6)
            .map(|i| {
                let scope = if i < 4 { overlapping[i].to_string() } else { own[i - 4].clone() };
                concord(&team.machines[i], &acquire_args(&agents[i], "WBS-001", &scope))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        let won: Vec<usize> = (0..6).filter(|&i| outputs[i].status.success()).collect();
        let overlapping_winners = won.iter().filter(|&&i| i < 4).count();
        let explain = || {
            outputs
                .iter()
                .map(|o| format!("{:?} {}", o.status.code(), String::from_utf8_lossy(&o.stderr)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(overlapping_winners, 1, "round {round}: one winner per overlap\n{}", explain());
        assert!(
            won.contains(&4) && won.contains(&5),
            "round {round}: disjoint scopes both win\n{}",
            explain()
        );
        for i in (0..4).filter(|i| !won.contains(i)) {
            let stderr = String::from_utf8_lossy(&outputs[i].stderr);
            assert!(
                stderr.contains("overlaps the lock of"),
                "round {round}: loser {i} says who holds it: {stderr}"
            );
            assert_eq!(outputs[i].status.code(), Some(1));
        }
        let (generation, on_remote) = remote_locks(&team.origin).expect("the ref exists");
        let mut expected: Vec<String> = won.iter().map(|&i| agents[i].clone()).collect();
        expected.sort();
        assert_eq!(on_remote, expected, "round {round}: the remote holds exactly the winners");
        assert_eq!(generation, last_generation + 3, "one commit per winning acquire");
        // The winner's machine mirrors the remote into its lock folder.
        for &i in &won {
            assert!(team.machines[i].join(format!("ops/locks/{}.lock", agents[i])).exists());
        }
        let releases: Vec<Child> = won
            .iter()
            .map(|&i| {
                concord(&team.machines[i], &["lock", "release", "--agent", &agents[i]])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for release in releases {
            let out = release.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let (generation, on_remote) = remote_locks(&team.origin).unwrap();
        assert!(on_remote.is_empty(), "round {round}: all released: {on_remote:?}");
        last_generation = generation;
    }
}

#[test]
fn racers_over_git_daemon_get_exactly_one_winner_per_overlap() {
    let base = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(base.path());
    let port = daemon.port;
    let team = {
        let t = team(6, |_| String::new());
        // Serve this team's origin through the daemon.
        let served = base.path().join("origin.git");
        git(base.path(), &["init", "--quiet", "--bare", served.to_str().unwrap()]);
        for machine in &t.machines {
            git(machine, &["remote", "set-url", "origin", &format!("git://127.0.0.1:{port}/origin.git")]);
        }
        Team { origin: served, ..t }
    };
    race(&team, 20);
    drop(daemon);
}

#[test]
fn racers_over_file_urls_get_exactly_one_winner_per_overlap() {
    let team = team(6, |dir| format!("file://{}", dir.join("origin.git").display()));
    race(&team, 4);
}

#[test]
fn a_killed_acquire_never_tears_the_ref() {
    let team = team(2, |dir| format!("file://{}", dir.join("origin.git").display()));
    let out = run(&team.machines[1], &acquire_args("KEEPER", "WBS-009", "keep/**"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut outcomes = [0usize; 2];
    for round in 0..12u64 {
        let before = remote_locks(&team.origin).unwrap().1;
        let agent = format!("VICTIM-{round}");
        let mut child = concord(&team.machines[0], &acquire_args(&agent, "WBS-001", &format!("v{round}/**")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + round * 40));
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
        // Any git child the kill left running finishes (or not) on its own; let it settle.
        std::thread::sleep(Duration::from_millis(150));
        let (_, after) = remote_locks(&team.origin).expect("the ref still parses");
        let mut with_new = before.clone();
        with_new.push(agent.clone());
        with_new.sort();
        assert!(
            after == before || after == with_new,
            "round {round}: {after:?} is neither {before:?} nor {with_new:?}"
        );
        outcomes[usize::from(after == with_new)] += 1;
    }
    // The lock set stays usable afterwards.
    let out = run(&team.machines[1], &acquire_args("AFTER", "WBS-002", "after/**"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("killed acquires: {} left the old set, {} the new", outcomes[0], outcomes[1]);
}

#[test]
fn a_stale_lock_of_another_machine_is_swept_and_fenced_out() {
    let team = team(2, |dir| format!("file://{}", dir.join("origin.git").display()));
    let (a, b) = (&team.machines[0], &team.machines[1]);
    let out = run(a, &acquire_args("PAUSED", "WBS-005", "svc/**"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token: i64 = stdout
        .split("Concord-Lock: WBS-005@")
        .nth(1)
        .and_then(|t| t.split('`').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("the acquire names its trailer: {stdout}"));
    assert!(a.join("ops/locks/PAUSED.lock").exists());
    // The other machine sees the lock and cannot take an overlapping scope.
    let out = run(b, &acquire_args("FRESH", "WBS-005", "svc/api/**"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PAUSED"));
    let out =
        run(b, &["lock", "verify", "--agent", "PAUSED", "--task", "WBS-005", "--token", &token.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Not stale yet: the sweep keeps it.
    let out = run(b, &["lock", "sweep", "--older-than", "1h"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 stale locks removed"));
    std::thread::sleep(Duration::from_millis(1100));
    let out = run(b, &["lock", "sweep", "--older-than", "0s"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("PAUSED"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(remote_locks(&team.origin).unwrap().1, Vec::<String>::new());
    // Someone else takes the scope again, with a newer token.
    let out = run(b, &acquire_args("FRESH", "WBS-005", "svc/**"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The paused holder wakes up: its token is refused, and its release leaves the new lock.
    let out =
        run(a, &["lock", "verify", "--agent", "PAUSED", "--task", "WBS-005", "--token", &token.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FRESH"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = concord::workspace::load_config(a).unwrap();
    let dir = concord::ops::locks::LockDir::new(a, &config);
    assert!(dir.check_fence("PAUSED", "WBS-005", Some(token)).is_err());
    assert!(
        dir.release_fenced("FRESH", Some("WBS-005"), Some(token)).is_err(),
        "an old token releases nothing"
    );
    assert_eq!(remote_locks(&team.origin).unwrap().1, vec!["FRESH".to_string()]);
    // Listing mirrors the remote: the paused holder's local file goes, the new one appears.
    let out = run(a, &["lock", "list"]);
    assert!(out.status.success());
    assert!(!a.join("ops/locks/PAUSED.lock").exists());
    assert!(a.join("ops/locks/FRESH.lock").exists());
}

#[test]
fn an_unreachable_remote_is_an_error_never_a_local_lock() {
    let team = team(1, |_| {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        format!("git://127.0.0.1:{port}/nothing.git")
    });
    let machine = &team.machines[0];
    let out = run(machine, &acquire_args("AGENT-1", "WBS-001", "src/**"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the lock remote") && stderr.contains("--local"), "{stderr}");
    assert!(!machine.join("ops/locks/AGENT-1.lock").exists());
    let out = run(machine, &["lock", "list"]);
    assert_eq!(out.status.code(), Some(1));
    // `--local` is the explicit choice of this checkout's folder.
    let mut args = acquire_args("AGENT-1", "WBS-001", "src/**");
    args.push("--local");
    let out = run(machine, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(machine.join("ops/locks/AGENT-1.lock").exists());
}

/// The fencing token travels with the work: `lock list` shows it, `concord trailers` offers the
/// `Concord-Lock` line, and the commit-msg hook refuses a message without it, or naming a token
/// that is no longer the lock held.
#[test]
fn the_lock_trailer_is_listed_offered_and_required_at_commit() {
    let team = team(1, |dir| format!("file://{}", dir.join("origin.git").display()));
    let a = &team.machines[0];
    let out = run(a, &acquire_args("A1", "WBS-005", "svc/**"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = remote_locks(&team.origin).unwrap().0;
    let trailer = format!("Concord-Lock: WBS-005@{token}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&trailer));

    let listed = run(a, &["lock", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&format!("@{token}")), "{listed:?}");

    let offered = concord(a, &["trailers"]).env("CONCORD_AGENT", "A1").output().unwrap();
    assert!(String::from_utf8_lossy(&offered.stdout).contains(&trailer), "{offered:?}");

    let message = a.join("COMMIT_EDITMSG");
    let commit_msg = |text: &str| {
        std::fs::write(&message, text).unwrap();
        concord(a, &["hook", "commit-msg", message.to_str().unwrap()])
            .env("CONCORD_AGENT", "A1")
            .output()
            .unwrap()
    };
    let missing = commit_msg("Add the service\n\nImplements: WBS-005\n");
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).contains(&trailer), "{missing:?}");
    let named = commit_msg(&format!("Add the service\n\nImplements: WBS-005\n{trailer}\n"));
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    let old =
        commit_msg(&format!("Add the service\n\nImplements: WBS-005\nConcord-Lock: WBS-005@{}\n", token - 1));
    assert_eq!(old.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&old.stderr).contains("since swept or taken again"), "{old:?}");
    // Without an agent (a person's commit) no lock trailer is asked for.
    std::fs::write(&message, "Add the service\n\nImplements: WBS-005\n").unwrap();
    let person = concord(a, &["hook", "commit-msg", message.to_str().unwrap()]).output().unwrap();
    assert!(person.status.success(), "{}", String::from_utf8_lossy(&person.stderr));
}
