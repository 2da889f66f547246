//! The owner's report as one self-contained HTML page: no CDN, no network, charts as inline
//! SVG. The sections a person reads first are written out; every chunk's drill-down lives in an
//! embedded JSON block and is drawn only when asked for, so a spec of thousands of chunks stays
//! a small page that opens fast. Statuses are words beside their colours, tables have headers,
//! and the print style shows every section.

use std::fmt::Write;

use crate::ops::report::Dashboard;

/// The page; `root_href` is how it links to the workspace's files (`../../` from
/// `.concord/report/`), `editor_root` the workspace's absolute path, for links that open a
/// place in the editor (the page is local, never committed).
pub fn html(d: &Dashboard, root_href: &str, editor_root: &str) -> String {
    let mut out = String::with_capacity(64 * 1024 + d.chunk_rows.len() * 400);
    let percent = |part: usize, whole: usize| (part * 100).checked_div(whole).unwrap_or(0);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Concord report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<main>\n<h1>Where the project stands</h1>\n");
    let _ = writeln!(
        out,
        "<p id=\"headline\"><strong><span id=\"covered\">{}</span> of <span id=\"chunks\">{}</span> spec chunks are covered ({}%)</strong>: each has a work item, code and tests. <small>Generated {}.</small></p>",
        d.covered,
        d.chunks,
        percent(d.covered, d.chunks),
        esc(&d.generated_at)
    );
    out.push_str(&status_bar(d));
    out.push_str(&health(&d.health));

    out.push_str("<section id=\"questions\"><h2>Decisions waiting for you</h2>\n");
    if d.questions.is_empty() {
        out.push_str("<p>No question is waiting for you.</p>\n");
    } else {
        out.push_str("<table><thead><tr><th scope=\"col\">Question</th><th scope=\"col\">About</th><th scope=\"col\">Recommended</th></tr></thead><tbody>\n");
        for q in &d.questions {
            let _ = writeln!(
                out,
                "<tr><td><strong>{}</strong> {}</td><td>{}</td><td>{}</td></tr>",
                esc(&q.id),
                esc(&q.question),
                esc(&q.about.join(", ")),
                esc(q.recommended.as_deref().unwrap_or("–"))
            );
        }
        out.push_str("</tbody></table>\n<p>Answer with <code>concord answer Q-0001 A</code>, or from the editor's command palette.</p>\n");
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"risks\"><h2>Top risks</h2>\n");
    if d.risks.is_empty() {
        out.push_str("<p>None recorded.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for risk in &d.risks {
            let _ = writeln!(out, "<li>{}</li>", esc(risk));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"next\"><h2>Next</h2>\n");
    match &d.next {
        Some(next) => {
            let _ = writeln!(out, "<p>The loop would dispatch {}.</p>", esc(next));
        }
        None => out.push_str("<p>No work item can be dispatched now.</p>\n"),
    }
    if !d.waiting.is_empty() {
        out.push_str("<details><summary>Why the other items wait</summary><ul>\n");
        for (id, why) in &d.waiting {
            let _ = writeln!(out, "<li><strong>{}</strong>: {}</li>", esc(id), esc(why));
        }
        out.push_str("</ul></details>\n");
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"changes\"><h2>What changed since the last report</h2>\n");
    match &d.changes {
        None => out.push_str("<p>This is the first report.</p>\n"),
        Some(c) => {
            let _ = writeln!(out, "<p>Since {}:</p>\n<ul>", esc(&c.since));
            for (id, from, to) in &c.moved {
                let _ = writeln!(out, "<li>{}: {} → {}</li>", esc(id), esc(from), esc(to));
            }
            if !c.newly_covered.is_empty() {
                let _ = writeln!(out, "<li>newly covered: {}</li>", esc(&c.newly_covered.join(", ")));
            }
            if !c.newly_uncovered.is_empty() {
                let _ = writeln!(
                    out,
                    "<li>no longer covered, or new and not covered: {}</li>",
                    esc(&c.newly_uncovered.join(", "))
                );
            }
            for (code, before, now) in &c.findings {
                let _ = writeln!(out, "<li><code>{}</code> findings: {before} → {now}</li>", esc(code));
            }
            if c.moved.is_empty()
                && c.newly_covered.is_empty()
                && c.newly_uncovered.is_empty()
                && c.findings.is_empty()
            {
                out.push_str("<li>nothing changed</li>\n");
            }
            out.push_str("</ul>\n");
        }
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"coverage\"><h2>Coverage</h2>\n");
    out.push_str(&trend_chart(d));
    let statuses: Vec<&String> = d.by_status.keys().collect();
    out.push_str(
        "<table><caption>Chunks by priority and status</caption><thead><tr><th scope=\"col\">Priority</th>",
    );
    for status in &statuses {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(status));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (priority, counts) in &d.by_priority {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(priority));
        for status in &statuses {
            let _ = write!(out, "<td>{}</td>", counts.get(*status).copied().unwrap_or(0));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n<details><summary>By topic</summary><table><thead><tr><th scope=\"col\">Topic</th><th scope=\"col\">Chunks</th><th scope=\"col\">Covered</th></tr></thead><tbody>\n");
    for topic in &d.topics {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{} ({}%)</td></tr>",
            esc(&topic.topic),
            topic.chunks,
            topic.covered,
            percent(topic.covered, topic.chunks)
        );
    }
    out.push_str("</tbody></table></details>\n</section>\n");

    out.push_str("<section id=\"board\"><h2>Work board</h2>\n");
    out.push_str("<p class=\"filters\"><label>Filter <input id=\"board-filter\" type=\"search\" placeholder=\"ID, title, agent\"></label> <label>Status <select id=\"board-status\"><option value=\"\">any</option>");
    let mut seen: Vec<&str> = d.board.iter().map(|r| r.status.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    for status in seen {
        let _ = write!(out, "<option>{}</option>", esc(status));
    }
    out.push_str("</select></label> <span id=\"board-count\" aria-live=\"polite\"></span></p>\n");
    out.push_str("<table id=\"board-table\"><thead><tr><th scope=\"col\">Item</th><th scope=\"col\">Status</th><th scope=\"col\">Risk</th><th scope=\"col\">Autopilot</th><th scope=\"col\">Lock</th><th scope=\"col\">Attempts</th><th scope=\"col\">Last review</th><th scope=\"col\">Waiting for</th></tr></thead><tbody>\n");
    for row in &d.board {
        let _ = writeln!(
            out,
            "<tr data-status=\"{status}\"><th scope=\"row\"><strong>{}</strong> {}</th><td><span class=\"status {status}\">{status}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.id),
            esc(&row.title),
            esc(&row.risk),
            esc(&row.autopilot),
            esc(row.lock.as_deref().unwrap_or("–")),
            row.attempts,
            esc(row.last_decision.as_deref().unwrap_or("–")),
            esc(row.waiting.as_deref().unwrap_or("–")),
            status = esc(&row.status),
        );
    }
    out.push_str("</tbody></table>\n</section>\n");

    out.push_str("<section id=\"chunks-section\"><h2>Chunks</h2>\n");
    out.push_str("<p class=\"filters\"><label>Find <input id=\"chunk-search\" type=\"search\" placeholder=\"ID, title or topic\"></label> <label><input id=\"chunk-open\" type=\"checkbox\" checked> only those not covered</label> <span id=\"chunk-count\" aria-live=\"polite\"></span></p>\n");
    out.push_str(
        "<ul id=\"chunk-list\"></ul>\n<div id=\"chunk-detail\" tabindex=\"-1\"></div>\n</section>\n</main>\n",
    );
    // The drill-down data: `</` is escaped so no text can end the script element.
    let data = serde_json::json!({ "root": root_href, "editor_root": editor_root, "chunks": d.chunk_rows });
    let json = serde_json::to_string(&data).expect("the report serializes").replace("</", "<\\/");
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"report-data\">{json}</script>\n<script>{SCRIPT}</script>\n"
    );
    out.push_str("</body>\n</html>\n");
    out
}

/// The agent loop's health: the level as a word on its colour, each reason with what to do,
/// and what was looked at.
fn health(h: &crate::formats::Health) -> String {
    let level = |l: crate::formats::HealthLevel| {
        let word = l.as_str();
        let mut title = word.to_string();
        title[..1].make_ascii_uppercase();
        format!("<span class=\"level {word}\">{title}</span>")
    };
    let mut out = format!(
        "<section id=\"health\"><h2>Health of the agent loop</h2>\n<p id=\"health-level\">{} {}</p>\n",
        level(h.level),
        esc(&h.summary)
    );
    if !h.reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">\n");
        for r in &h.reasons {
            let _ = writeln!(
                out,
                "<li>{} {}<br><strong>Next:</strong> {}</li>",
                level(r.level),
                esc(&r.text),
                esc(&r.next)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<details><summary>What was looked at</summary><ul>\n");
    for fact in &h.facts {
        let _ = writeln!(out, "<li>{}</li>", esc(fact));
    }
    out.push_str("</ul></details>\n</section>\n");
    out
}

/// One stacked bar of chunks by status, each part labelled with its word and count.
fn status_bar(d: &Dashboard) -> String {
    let mut out = String::from("<figure id=\"status-bar\"><svg role=\"img\" aria-label=\"Chunks by coverage status\" viewBox=\"0 0 1000 40\" width=\"100%\" height=\"40\" preserveAspectRatio=\"none\">");
    let total = d.chunks.max(1) as f64;
    let mut x = 0.0;
    for (status, count) in &d.by_status {
        let width = *count as f64 / total * 1000.0;
        let _ = write!(
            out,
            "<rect class=\"{0}\" x=\"{x:.1}\" y=\"0\" width=\"{width:.1}\" height=\"40\"><title>{0}: {count}</title></rect>",
            esc(status)
        );
        x += width;
    }
    out.push_str("</svg><figcaption>");
    let parts: Vec<String> = d
        .by_status
        .iter()
        .map(|(status, count)| format!("<span class=\"status {0}\">{0}</span> {count}", esc(status)))
        .collect();
    out.push_str(&parts.join(" · "));
    out.push_str("</figcaption></figure>\n");
    out
}

/// Covered chunks over the reports, as a line (with the numbers in a table beside it).
fn trend_chart(d: &Dashboard) -> String {
    if d.trend.len() < 2 {
        return String::new();
    }
    let (w, h) = (600.0, 120.0);
    let n = d.trend.len() - 1;
    let points: Vec<String> = d
        .trend
        .iter()
        .enumerate()
        .map(|(i, (_, chunks, covered))| {
            let share = *covered as f64 / (*chunks).max(1) as f64;
            format!("{:.1},{:.1}", i as f64 / n as f64 * w, h - share * h)
        })
        .collect();
    let mut out = format!(
        "<figure id=\"trend\"><svg role=\"img\" aria-label=\"Share of chunks covered, one point a report\" viewBox=\"0 0 {w} {h}\" width=\"600\" height=\"120\"><polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"2\" points=\"{}\"/></svg><figcaption>Covered, one point a report</figcaption></figure>\n<details><summary>The trend in numbers</summary><table><thead><tr><th scope=\"col\">Report</th><th scope=\"col\">Covered</th></tr></thead><tbody>",
        points.join(" ")
    );
    for (at, chunks, covered) in &d.trend {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th><td>{covered} of {chunks}</td></tr>", esc(at));
    }
    out.push_str("</tbody></table></details>\n");
    out
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #d8dee4; vertical-align: top; }
thead th { border-bottom: 2px solid #57606a; }
caption { text-align: left; font-weight: 600; }
.status { padding: 0 .35rem; border-radius: .25rem; white-space: nowrap; }
.covered, .done { background: #dafbe1; fill: #2da44e; }
.missing_tests, .review, .in_progress { background: #fff8c5; fill: #d4a72c; }
.missing_code, .awaiting_approval { background: #ffebe9; fill: #e16f24; }
.missing_wbs, .blocked { background: #ffd8d3; fill: #cf222e; }
.todo { background: #eaeef2; fill: #8c959f; }
.filters label { margin-right: 1rem; }
#chunk-list { list-style: none; padding: 0; columns: 2; }
#chunk-list button { background: none; border: 0; padding: .1rem 0; cursor: pointer; text-align: left; font: inherit; color: #0969da; }
#chunk-detail:not(:empty) { border: 1px solid #d8dee4; border-radius: .5rem; padding: .5rem 1rem; margin-top: 1rem; }
.level { padding: 0 .4rem; border-radius: .25rem; border: 1px solid #57606a; font-weight: 600; }
.level.green { background: #dafbe1; }
.level.yellow { background: #fff8c5; }
.level.red { background: #ffebe9; }
.reasons li { margin-bottom: .4rem; }
a.editor { font-size: .85em; }
@media print {
  .filters, #chunks-section { display: none; }
  /* Closed sections print open: their content is shown, the summary stays as a heading. */
  details::details-content { content-visibility: visible; display: block; }
  details > * { display: block; }
  main { max-width: none; }
}
"#;

const SCRIPT: &str = r#"
(() => {
  const board = document.querySelectorAll('#board-table tbody tr');
  const filter = document.getElementById('board-filter');
  const status = document.getElementById('board-status');
  const boardCount = document.getElementById('board-count');
  const applyBoard = () => {
    const text = filter.value.trim().toLowerCase();
    let shown = 0;
    board.forEach((row) => {
      const visible = (!text || row.textContent.toLowerCase().includes(text)) && (!status.value || row.dataset.status === status.value);
      row.hidden = !visible;
      if (visible) shown++;
    });
    boardCount.textContent = `${shown} of ${board.length} items`;
  };
  filter.addEventListener('input', applyBoard);
  status.addEventListener('change', applyBoard);
  applyBoard();

  let data = null;
  const loaded = () => data ?? (data = JSON.parse(document.getElementById('report-data').textContent));
  const chunks = () => loaded().chunks;
  const list = document.getElementById('chunk-list');
  const search = document.getElementById('chunk-search');
  const openOnly = document.getElementById('chunk-open');
  const chunkCount = document.getElementById('chunk-count');
  const detail = document.getElementById('chunk-detail');
  const LIMIT = 300;
  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };
  const show = (c) => {
    detail.replaceChildren();
    detail.append(el('h3', `${c.id} ${c.title}`));
    const facts = el('p');
    const badge = el('span', c.status); badge.className = `status ${c.status}`;
    facts.append(badge, ` · priority ${c.priority}${c.topic ? ` · topic ${c.topic}` : ''}`);
    detail.append(facts, el('p', c.summary || '(no summary)'));
    for (const [label, values, files] of [['Work items', c.work, false], ['Code', c.code, true], ['Tests', c.tests, true]]) {
      detail.append(el('h4', `${label} (${values.length})`));
      const ul = el('ul');
      for (const v of values) {
        const li = el('li');
        if (files) {
          // `path:line`: the link opens the file at the line (`#L12`), the editor link at the
          // line in VS Code or Cursor.
          const place = v.match(/^(.*):(\d+)$/);
          const file = place ? place[1] : v;
          const a = el('a', v);
          a.href = loaded().root + file.split('/').map(encodeURIComponent).join('/') + (place ? `#L${place[2]}` : '');
          const editor = el('a', 'open in the editor');
          editor.className = 'editor';
          editor.href = `vscode://file${encodeURI(`${loaded().editor_root}/${file}`)}${place ? `:${place[2]}` : ''}`;
          editor.setAttribute('aria-label', `open in the editor: ${v}`);
          li.append(a, ' ', editor);
        } else {
          li.textContent = v;
        }
        ul.append(li);
      }
      if (!values.length) ul.append(el('li', 'none'));
      detail.append(ul);
    }
    detail.focus();
  };
  const applyChunks = () => {
    const text = search.value.trim().toLowerCase();
    const all = chunks();
    const matching = all.filter((c) => (!openOnly.checked || c.status !== 'covered') &&
      (!text || `${c.id} ${c.title} ${c.topic ?? ''}`.toLowerCase().includes(text)));
    list.replaceChildren(...matching.slice(0, LIMIT).map((c) => {
      const li = el('li');
      const button = el('button', `${c.id} ${c.title}`);
      button.type = 'button';
      button.dataset.id = c.id;
      button.addEventListener('click', () => show(c));
      const badge = el('span', c.status); badge.className = `status ${c.status}`;
      li.append(button, ' ', badge);
      return li;
    }));
    chunkCount.textContent = `${matching.length} of ${all.length} chunks${matching.length > LIMIT ? ` (the first ${LIMIT} shown: narrow the search)` : ''}`;
  };
  search.addEventListener('input', applyChunks);
  openOnly.addEventListener('change', applyChunks);
  // Drawn when the section comes near the screen, not at load.
  new IntersectionObserver((entries, observer) => {
    if (entries.some((e) => e.isIntersecting)) { applyChunks(); observer.disconnect(); }
  }, { rootMargin: '400px' }).observe(document.getElementById('chunks-section'));
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::report::{ChunkRow, QuestionRow};

    #[test]
    fn text_from_the_workspace_cannot_break_the_page() {
        let hostile = "</script><img src=x onerror=alert(1)> & \"quoted\"";
        let d = Dashboard {
            generated_at: "2026-12-05T00:00:00Z".into(),
            chunks: 1,
            covered: 0,
            by_status: [("missing_wbs".to_string(), 1)].into_iter().collect(),
            by_priority: Default::default(),
            topics: vec![],
            trend: vec![],
            board: vec![],
            questions: vec![QuestionRow {
                id: "Q-0001".into(),
                question: hostile.into(),
                about: vec![],
                recommended: None,
            }],
            changes: None,
            risks: vec![hostile.into()],
            next: None,
            waiting: vec![],
            health: crate::ops::health::evaluate(
                &crate::ops::health::Inputs {
                    runs: vec![],
                    reviews: vec![],
                    stale_locks: vec![],
                    stale_after_secs: 60,
                    smoke: crate::ops::health::Smoke::Recorded(crate::formats::SmokeCheck {
                        at: "2026-12-05T00:00:00Z".into(),
                        passed: false,
                        failed: vec![hostile.into()],
                    }),
                    unreadable: vec![],
                },
                &Default::default(),
                "2026-12-05T00:00:00Z",
            ),
            chunk_rows: vec![ChunkRow {
                id: "TD-0001".into(),
                title: hostile.into(),
                priority: "must".into(),
                topic: None,
                status: "missing_wbs".into(),
                summary: hostile.into(),
                work: vec![],
                code: vec![],
                tests: vec![],
            }],
        };
        let page = html(&d, "../../", "/work/ws");
        // In the markup it is text; inside the JSON block only `</` could end the element.
        let markup = &page[..page.find("<script type=\"application/json\"").unwrap()];
        assert!(!markup.contains("<img"), "{markup}");
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own two scripts end");
        assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;"));
        // The embedded JSON still reads back to the same text.
        let start = page.find("id=\"report-data\">").unwrap() + "id=\"report-data\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&page[start..end].replace("<\\/", "</")).unwrap();
        assert_eq!(data["chunks"][0]["title"], hostile);
    }
}
