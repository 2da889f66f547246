//! The commands the server offers through `workspace/executeCommand`.

/// Every command, in the order the server announces them.
pub const COMMANDS: &[&str] = &[
    "concord.status",
    "concord.queue",
    "concord.reload",
    "concord.crosswalk",
    "concord.dispatch",
    "concord.autopilot",
    "concord.review",
    "concord.apply",
    "concord.approve",
    "concord.questions",
    "concord.answer",
    "concord.health",
    "concord.lock.acquire",
    "concord.lock.release",
    "concord.lock.sweep",
];
