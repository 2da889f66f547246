//! `ops/pull-requests.jsonl`: the pull request opened for each work item, append-only; the last
//! line of a work item is its current pull request. A line that does not read as a record is a
//! positioned finding and is skipped: the records before and after it still count.

use super::reader::FileReader;
use crate::formats::PullRequestRecord;

/// Every record in file order, and the file's findings.
pub fn parse_pull_requests(
    path: &str,
    text: &str,
) -> (Vec<PullRequestRecord>, Vec<crate::findings::Finding>) {
    let mut reader = FileReader::new(path, text);
    let mut records = Vec::new();
    for super::reader::JsonlLine { number: n, start, text: line, torn_note: why } in
        super::reader::jsonl_lines(text)
    {
        match serde_json::from_str::<PullRequestRecord>(line) {
            Ok(record) => records.push(record),
            Err(e) => {
                // serde's column is 1-based, in characters of the line.
                let at = line.char_indices().nth(e.column().saturating_sub(1)).map_or(line.len(), |(i, _)| i);
                reader.malformed(
                    start + at,
                    start + at,
                    format!("line {} is not a pull-request record: {e}{why}. The line is skipped; fix or remove it (`docs/schemas/pull-request.schema.json` has the format).", n + 1),
                );
            }
        }
    }
    (records, reader.findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENED: &str = r#"{"wbs":"WBS-005","branch":"concord/WBS-005","base":"main","number":12,"url":"https://github.com/a/b/pull/12","head_sha":"abc1234","run":null,"opened_at":"2026-12-05T10:00:00Z","draft":true}"#;

    #[test]
    fn records_are_kept_in_order_and_bad_lines_are_positioned() {
        let again = OPENED.replace("12", "13");
        let text = format!("{OPENED}\n{{\"wbs\":\"WBS-005\"}}\n{again}\n{{\"wbs\":");
        let (records, findings) = parse_pull_requests("ops/pull-requests.jsonl", &text);
        assert_eq!(records.iter().map(|r| r.number).collect::<Vec<_>>(), [12, 13]);
        let lines: Vec<u32> = findings.iter().map(|f| f.span.start.line).collect();
        assert_eq!(lines, [1, 3]);
        assert!(findings[0].message.contains("missing field"), "{}", findings[0].message);
        assert!(findings[1].message.contains("incomplete"), "{}", findings[1].message);
    }
}
