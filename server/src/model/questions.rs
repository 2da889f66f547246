//! `ops/owner-questions.jsonl`: the owner's questions, append-only; the last line of an ID is
//! that question's state. A line that does not read as a question is a positioned finding and
//! is skipped: the questions before and after it still count.

use super::reader::FileReader;
use crate::formats::OwnerQuestion;

/// Every question's latest state, in the order the IDs first appear, and the file's findings.
pub fn parse_questions(path: &str, text: &str) -> (Vec<OwnerQuestion>, Vec<crate::findings::Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut latest: Vec<OwnerQuestion> = Vec::new();
    for super::reader::JsonlLine { number: n, start, text: line, torn_note: why } in
        super::reader::jsonl_lines(text)
    {
        match serde_json::from_str::<OwnerQuestion>(line) {
            Ok(question) => match latest.iter_mut().find(|q| q.id == question.id) {
                Some(earlier) => *earlier = question,
                None => latest.push(question),
            },
            Err(e) => {
                // serde's column is 1-based, in characters of the line.
                let at = line.char_indices().nth(e.column().saturating_sub(1)).map_or(line.len(), |(i, _)| i);
                reader.malformed(
                    start + at,
                    start + at,
                    format!("line {} is not an owner question: {e}{why}. The line is skipped; fix or remove it (`docs/schemas/owner-question.schema.json` has the format).", n + 1),
                );
            }
        }
    }
    (latest, reader.findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASKED: &str = r#"{"id":"Q-0001","question":"Card or credit?","options":[{"key":"A","text":"Card."},{"key":"B","text":"Credit."}],"asked_by":"owner","asked_at":"2026-12-05T10:00:00Z","status":"pending"}"#;

    #[test]
    fn the_last_line_of_an_id_is_its_state_and_bad_lines_are_positioned() {
        let answered = ASKED.replace("\"pending\"", "\"answered\",\"answer\":\"B\"");
        let text = format!("{ASKED}\nnot json\n{answered}\n{{\"id\":\"Q-0002\"");
        let (questions, findings) = parse_questions("ops/owner-questions.jsonl", &text);
        assert_eq!(questions.len(), 1);
        assert_eq!(questions[0].answer.as_deref(), Some("B"));
        let lines: Vec<u32> = findings.iter().map(|f| f.span.start.line).collect();
        assert_eq!(lines, [1, 3]);
        assert!(findings[1].message.contains("incomplete"), "{}", findings[1].message);
    }
}
