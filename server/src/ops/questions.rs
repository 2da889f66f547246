//! The owner's questions: `concord ask`, `answer` and `questions`. The JSONL file is the truth
//! and is only ever appended to (a changed question is its whole record again); after every
//! change docs/OWNER_QUESTIONS.md is rendered from it, whole, with an atomic write. IDs are
//! given under a workspace mutex so two askers never take the same one.

use std::fs::File;
use std::path::Path;

use crate::formats::{OwnerQuestion, QuestionOption, QuestionStatus, Recommendation};
use crate::workspace::Workspace;

/// What `concord ask` records.
#[derive(Debug, Default, Clone)]
pub struct Ask {
    pub question: String,
    pub options: Vec<String>,
    pub recommend: Option<(String, String)>,
    pub wbs: Vec<String>,
    pub chunks: Vec<String>,
    pub topic: Option<String>,
    pub asked_by: String,
    pub proposal: Option<String>,
}

/// Every question's latest state, read fresh from disk; a line that does not read is reported
/// by `concord check` and skipped here.
pub fn load(root: &Path, config: &crate::config::Config) -> Result<Vec<OwnerQuestion>, String> {
    let rel = &config.paths.owner_questions;
    let text = crate::fsutil::read_text_in_workspace(root, rel, config.max_file_size)
        .map_err(|e| format!("{rel} {e}"))?
        .unwrap_or_default();
    Ok(crate::model::parse_questions(rel, &text).0)
}

/// The IDs of the pending questions about work item `id`, read fresh from disk: a decision
/// applied right after an answer must see the answer, whatever the loaded model holds.
pub fn pending_about(root: &Path, config: &crate::config::Config, id: &str) -> Result<Vec<String>, String> {
    Ok(load(root, config)?
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Pending && q.wbs.iter().any(|w| w == id))
        .map(|q| q.id)
        .collect())
}

/// Held while a question is being numbered or changed.
struct Mutex {
    _file: File,
}

fn mutex(root: &Path) -> Result<Mutex, String> {
    let path = crate::fsutil::writable_in_workspace(root, Path::new(".concord/owner-questions.mutex"))
        .map_err(|e| format!("cannot use .concord/: {e}"))?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open .concord/owner-questions.mutex: {e}"))?;
    file.lock().map_err(|e| format!("cannot lock .concord/owner-questions.mutex: {e}"))?;
    Ok(Mutex { _file: file })
}

/// Record a new question; returns it.
pub fn ask(ws: &Workspace, ask: &Ask) -> Result<OwnerQuestion, String> {
    if ask.question.trim().is_empty() {
        return Err("the question is empty".into());
    }
    if !(2..=26).contains(&ask.options.len()) {
        return Err(format!("a question needs 2 to 26 options (A, B, ...), {} given", ask.options.len()));
    }
    if let Some(empty) = ask.options.iter().position(|o| o.trim().is_empty()) {
        return Err(format!("option {} is empty", key_of(empty)));
    }
    let keys: Vec<String> = (0..ask.options.len()).map(key_of).collect();
    if let Some((option, _)) = &ask.recommend {
        if !keys.contains(option) {
            return Err(format!("the recommendation {option} is not one of the options {}", keys.join(", ")));
        }
    }
    for id in ask.wbs.iter().chain(&ask.chunks) {
        if !ws.model.is_known(id) {
            return Err(format!("{id} is not a known work item or chunk"));
        }
    }
    let _held = mutex(&ws.root)?;
    let existing = load(&ws.root, &ws.config)?;
    let number =
        existing.iter().filter_map(|q| q.id.strip_prefix("Q-")?.parse::<u32>().ok()).max().unwrap_or(0);
    let question = OwnerQuestion {
        id: format!("Q-{:04}", number + 1),
        wbs: ask.wbs.clone(),
        chunks: ask.chunks.clone(),
        topic: ask.topic.clone(),
        question: ask.question.trim().to_string(),
        options: ask
            .options
            .iter()
            .enumerate()
            .map(|(i, text)| QuestionOption { key: key_of(i), text: text.trim().to_string() })
            .collect(),
        recommendation: ask
            .recommend
            .clone()
            .map(|(option, reason)| Recommendation { option, reason: reason.trim().to_string() }),
        asked_by: ask.asked_by.clone(),
        asked_at: now(),
        status: QuestionStatus::Pending,
        answer: None,
        note: None,
        answered_by: None,
        answered_at: None,
        proposal: ask.proposal.clone(),
    };
    record(ws, &question, existing)?;
    Ok(question)
}

/// Answer a pending question with one of its options.
pub fn answer(
    ws: &Workspace,
    id: &str,
    option: &str,
    by: &str,
    note: Option<&str>,
) -> Result<OwnerQuestion, String> {
    change(ws, id, |question| {
        let option = option.trim().to_ascii_uppercase();
        if !question.options.iter().any(|o| o.key == option) {
            let keys: Vec<&str> = question.options.iter().map(|o| o.key.as_str()).collect();
            return Err(format!("{id} has no option {option}; choose one of {}", keys.join(", ")));
        }
        question.status = QuestionStatus::Answered;
        question.answer = Some(option);
        question.answered_by = Some(by.to_string());
        question.answered_at = Some(now());
        question.note = note.map(str::to_string);
        Ok(())
    })
}

/// Withdraw a pending question (asked in error, or overtaken).
pub fn withdraw(ws: &Workspace, id: &str, by: &str, note: Option<&str>) -> Result<OwnerQuestion, String> {
    change(ws, id, |question| {
        question.status = QuestionStatus::Withdrawn;
        question.answered_by = Some(by.to_string());
        question.answered_at = Some(now());
        question.note = note.map(str::to_string);
        Ok(())
    })
}

fn change(
    ws: &Workspace,
    id: &str,
    edit: impl FnOnce(&mut OwnerQuestion) -> Result<(), String>,
) -> Result<OwnerQuestion, String> {
    let _held = mutex(&ws.root)?;
    let existing = load(&ws.root, &ws.config)?;
    let mut question = existing
        .iter()
        .find(|q| q.id == id)
        .cloned()
        .ok_or_else(|| format!("there is no question {id} in {}", ws.config.paths.owner_questions))?;
    if question.status != QuestionStatus::Pending {
        return Err(format!(
            "{id} is already {}{}",
            status_name(question.status),
            question.answer.as_deref().map(|a| format!(" ({a})")).unwrap_or_default()
        ));
    }
    edit(&mut question)?;
    record(ws, &question, existing)?;
    Ok(question)
}

/// Append the question's whole record, then render the markdown from every question.
fn record(ws: &Workspace, question: &OwnerQuestion, mut all: Vec<OwnerQuestion>) -> Result<(), String> {
    let paths = &ws.config.paths;
    let line = serde_json::to_string(question).expect("a question serializes");
    crate::fsutil::append_line_in_workspace(&ws.root, &paths.owner_questions, &super::scrub::text(&line))
        .map_err(|e| format!("cannot write {}: {e}", paths.owner_questions))?;
    match all.iter_mut().find(|q| q.id == question.id) {
        Some(earlier) => *earlier = question.clone(),
        None => all.push(question.clone()),
    }
    let markdown = super::scrub::text(&render_markdown(&all, &paths.owner_questions));
    crate::fsutil::write_in_workspace(&ws.root, &paths.owner_questions_md, markdown.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", paths.owner_questions_md))
}

/// Pending questions first (oldest first), then the rest, newest answer first.
pub fn ordered(questions: &[OwnerQuestion]) -> Vec<&OwnerQuestion> {
    let mut pending: Vec<&OwnerQuestion> =
        questions.iter().filter(|q| q.status == QuestionStatus::Pending).collect();
    pending.sort_by(|a, b| (&a.asked_at, &a.id).cmp(&(&b.asked_at, &b.id)));
    let mut rest: Vec<&OwnerQuestion> =
        questions.iter().filter(|q| q.status != QuestionStatus::Pending).collect();
    rest.sort_by(|a, b| (&b.answered_at, &b.id).cmp(&(&a.answered_at, &a.id)));
    pending.extend(rest);
    pending
}

/// docs/OWNER_QUESTIONS.md: generated, pending questions first.
pub fn render_markdown(questions: &[OwnerQuestion], source: &str) -> String {
    let mut out = format!(
        "# Owner questions\n\nGenerated by Concord from `{source}`; do not edit (answer with `concord answer Q-0001 A`).\n"
    );
    let pending = questions.iter().filter(|q| q.status == QuestionStatus::Pending).count();
    out.push_str(&format!("\n{pending} pending, {} decided.\n", questions.len() - pending));
    let mut heading = None;
    for question in ordered(questions) {
        let section = if question.status == QuestionStatus::Pending { "Pending" } else { "Decided" };
        if heading != Some(section) {
            out.push_str(&format!("\n## {section}\n"));
            heading = Some(section);
        }
        out.push_str(&format!("\n### {}: {}\n\n", question.id, one_line(&question.question)));
        let about: Vec<&str> = question.wbs.iter().chain(&question.chunks).map(String::as_str).collect();
        let mut facts = vec![format!("asked by {} at {}", question.asked_by, question.asked_at)];
        if !about.is_empty() {
            facts.push(format!("about {}", about.join(", ")));
        }
        if let Some(topic) = &question.topic {
            facts.push(format!("topic {}", one_line(topic)));
        }
        if let Some(proposal) = &question.proposal {
            facts.push(format!("decides proposal {proposal}"));
        }
        out.push_str(&format!("{}.\n\n", capitalise(&facts.join("; "))));
        for option in &question.options {
            let chosen = question.answer.as_deref() == Some(option.key.as_str());
            let recommended = question.recommendation.as_ref().is_some_and(|r| r.option == option.key);
            let marks = [(chosen, "chosen"), (recommended, "recommended")]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, m)| *m)
                .collect::<Vec<_>>()
                .join(", ");
            let marks = if marks.is_empty() { String::new() } else { format!(" **({marks})**") };
            out.push_str(&format!("- **{}**: {}{marks}\n", option.key, one_line(&option.text)));
        }
        if let Some(r) = &question.recommendation {
            out.push_str(&format!("\nRecommended: {}, because {}\n", r.option, one_line(&r.reason)));
        }
        match question.status {
            QuestionStatus::Pending => {}
            status => out.push_str(&format!(
                "\n{} by {} at {}{}\n",
                capitalise(status_name(status)),
                question.answered_by.as_deref().unwrap_or("?"),
                question.answered_at.as_deref().unwrap_or("?"),
                question.note.as_deref().map(|n| format!(": {}", one_line(n))).unwrap_or_default()
            )),
        }
    }
    out
}

/// The constraint a task file carries once a question about its item is answered.
pub fn decision_line(question: &OwnerQuestion) -> Option<String> {
    let answer = question.answer.as_deref()?;
    let text = question.options.iter().find(|o| o.key == answer)?.text.as_str();
    let note = question.note.as_deref().map(|n| format!(" ({})", one_line(n))).unwrap_or_default();
    Some(format!("Owner decided {}: {answer} — {}{note}", question.id, one_line(text)))
}

/// Why work item `id` waits for its owner, if it does: its pending questions, and how to answer.
pub fn pending_for(model: &crate::model::Model, id: &str) -> Option<String> {
    let pending: Vec<&str> = model.pending_questions(id).map(|q| q.id.as_str()).collect();
    let first = pending.first()?;
    Some(format!(
        "owner question {} pending (`concord questions`, then `concord answer {first} <letter>`)",
        pending.join(", ")
    ))
}

pub fn status_name(status: QuestionStatus) -> &'static str {
    match status {
        QuestionStatus::Pending => "pending",
        QuestionStatus::Answered => "answered",
        QuestionStatus::Withdrawn => "withdrawn",
    }
}

fn key_of(index: usize) -> String {
    char::from(b'A' + index as u8).to_string()
}

fn now() -> String {
    crate::time::format_rfc3339(crate::time::now_secs())
}

/// Markdown text on one line: a question's words never break the document's structure.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, status: QuestionStatus, at: &str) -> OwnerQuestion {
        OwnerQuestion {
            id: id.into(),
            wbs: vec!["WBS-001".into()],
            chunks: vec![],
            topic: None,
            question: "Card\nor credit?".into(),
            options: vec![
                QuestionOption { key: "A".into(), text: "Card.".into() },
                QuestionOption { key: "B".into(), text: "Credit.".into() },
            ],
            recommendation: Some(Recommendation { option: "A".into(), reason: "disputes".into() }),
            asked_by: "reviewer".into(),
            asked_at: at.into(),
            status,
            answer: (status == QuestionStatus::Answered).then(|| "B".into()),
            note: None,
            answered_by: (status == QuestionStatus::Answered).then(|| "owner".into()),
            answered_at: (status == QuestionStatus::Answered).then(|| "2026-12-05T12:00:00Z".into()),
            proposal: None,
        }
    }

    #[test]
    fn pending_questions_come_first_and_answers_are_marked() {
        let all = vec![
            question("Q-0001", QuestionStatus::Answered, "2026-12-01T00:00:00Z"),
            question("Q-0002", QuestionStatus::Pending, "2026-12-03T00:00:00Z"),
            question("Q-0003", QuestionStatus::Pending, "2026-12-02T00:00:00Z"),
        ];
        let ids: Vec<&str> = ordered(&all).iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["Q-0003", "Q-0002", "Q-0001"]);
        let md = render_markdown(&all, "ops/owner-questions.jsonl");
        assert!(md.contains("2 pending, 1 decided."), "{md}");
        assert!(md.find("### Q-0003").unwrap() < md.find("## Decided").unwrap());
        assert!(md.contains("### Q-0001: Card or credit?"), "{md}");
        assert!(md.contains("- **B**: Credit. **(chosen)**"), "{md}");
        assert!(md.contains("Answered by owner at 2026-12-05T12:00:00Z"), "{md}");
        assert_eq!(decision_line(&all[0]).as_deref(), Some("Owner decided Q-0001: B — Credit."));
    }
}
