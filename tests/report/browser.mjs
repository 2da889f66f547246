// Opens a `concord report --format html` page in Debian's chromium (driven by playwright-core
// from the extension's dependencies; no browser is downloaded) and checks it as a reader would:
// the headline numbers and health level, a click into a chunk, the board filter, links that open
// a place at its line; axe-core's accessibility rules (no serious or critical violation, with a
// chunk's drill-down open) and the print style (every closed section printed open, the filters
// left out). Prints one JSON line; exits 1 on a failed check.
//   node tests/report/browser.mjs REPORT.html EXPECTED_COVERED EXPECTED_CHUNKS BOARD_ID SCREENSHOT_DIR HEALTH_LEVEL
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'editors', 'vscode', 'package.json'));
const { chromium } = require('playwright-core');
// axe's own build, injected into the page as a script (no network).
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [html, covered, chunks, boardId, shots, level] = process.argv.slice(2);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: FLAGS });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const result = {};
try {
    const page = await browser.newPage();
    const requests = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    const started = Date.now();
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    result.load_ms = Date.now() - started;
    result.dom_ms = await page.evaluate(() => Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
    check(result.load_ms < 2000, `opens in under 2 s (took ${result.load_ms} ms)`);
    check(requests.length === 0, `no network request (made ${requests.join(', ')})`);
    result.covered = await page.textContent('#covered');
    result.chunks = await page.textContent('#chunks');
    check(result.covered === covered, `covered ${result.covered}, the check says ${covered}`);
    check(result.chunks === chunks, `chunks ${result.chunks}, the check says ${chunks}`);
    // The health section: the level as a word (colour is never the only signal), as `concord health` says.
    result.health = await page.textContent('#health-level .level');
    check(result.health.toLowerCase() === level, `health ${result.health}, concord health says ${level}`);
    await page.screenshot({ path: path.join(shots, 'report-top.png'), fullPage: false });

    // The board filter: by an ID (its row, and the rows that mention it), then by a status.
    const total = await page.$$eval('#board-table tbody tr', (rows) => rows.length);
    await page.fill('#board-filter', boardId);
    const visible = await page.$$eval('#board-table tbody tr', (rows) => rows.filter((r) => !r.hidden).map((r) => [r.querySelector('th').textContent, r.textContent]));
    check(visible.some(([item]) => item.startsWith(boardId)), `filtering the board by ${boardId} shows its row`);
    check(visible.every(([, text]) => text.includes(boardId)) && visible.length < total, `only rows mentioning ${boardId} stay (${visible.length} of ${total})`);
    result.board_filter = await page.textContent('#board-count');
    await page.fill('#board-filter', '');
    const status = await page.$eval('#board-table tbody tr', (row) => row.dataset.status);
    await page.selectOption('#board-status', status);
    const statuses = await page.$$eval('#board-table tbody tr', (rows) => rows.filter((r) => !r.hidden).map((r) => r.dataset.status));
    check(statuses.length > 0 && statuses.every((s) => s === status), `the status filter shows only ${status} items`);
    await page.selectOption('#board-status', '');
    await page.screenshot({ path: path.join(shots, 'report-board.png') });

    // The chunks are drawn when their section is reached; a click opens one.
    await page.locator('#chunks-section').scrollIntoViewIfNeeded();
    await page.waitForSelector('#chunk-list button', { timeout: 5000 });
    const first = page.locator('#chunk-list button').first();
    const id = await first.getAttribute('data-id');
    await first.click();
    const heading = await page.textContent('#chunk-detail h3');
    check(heading.startsWith(id), `clicking ${id} shows its drill-down (shows ${heading})`);
    result.chunk_list = await page.textContent('#chunk-count');
    result.opened = heading;
    await page.screenshot({ path: path.join(shots, 'report-chunk.png'), fullPage: false });

    // A chunk with code: its places are links to the files, with the line in their text.
    const traced = await page.evaluate(() => JSON.parse(document.getElementById('report-data').textContent).chunks.find((c) => c.code.some((p) => /:\d+$/.test(p))));
    if (traced) {
        await page.uncheck('#chunk-open');
        await page.fill('#chunk-search', traced.id);
        await page.click(`#chunk-list button[data-id="${traced.id}"]`);
        const links = await page.$$eval('#chunk-detail a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
        const [text, href] = links[0] ?? [];
        const [, file, line] = traced.code[0].match(/^(.*):(\d+)$/);
        check(text === traced.code[0] && href.endsWith(`${file}#L${line}`), `${traced.id}'s code place links to its file at the line (${text} → ${href})`);
        const target = new URL(href, page.url());
        result.linked = text;
        check(target.protocol === 'file:' && fs.existsSync(fileURLToPath(target)), `the link opens the file (${target})`);
        // Beside it, a link that opens the place in the editor at the line.
        const [, editor] = links[1] ?? [];
        check(editor?.startsWith('vscode://file/') && editor.endsWith(`/${file}:${line}`), `the editor link opens ${file} at line ${line} (${editor})`);
        check(fs.existsSync(decodeURI(editor.slice('vscode://file'.length).replace(/:\d+$/, ''))), `the editor link names the file's absolute path (${editor})`);
    }

    // Accessibility, with the drill-down open: no serious or critical violation of axe's rules.
    await page.addScriptTag({ content: axeSource });
    const axe = await page.evaluate(async () => {
        const run = await window.axe.run(document, { resultTypes: ['violations'] });
        return run.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    result.axe = axe.map((v) => `${v.id} (${v.impact}, ${v.nodes})`);
    for (const v of axe.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
        failures.push(`axe: ${v.id} (${v.impact}) at ${v.where.join(', ')}`);
    }

    // Printed: every closed section is open, the filters are left out.
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => ({
        closed: [...document.querySelectorAll('main details')]
            .filter((d) => d.closest('#chunks-section') === null)
            .filter((d) => [...d.children].some((c) => c.tagName !== 'SUMMARY' && !c.checkVisibility()))
            .map((d) => d.querySelector('summary')?.textContent),
        filters: [...document.querySelectorAll('.filters')].filter((f) => f.checkVisibility()).length,
    }));
    check(printed.closed.length === 0, `printed, every section is open (closed: ${printed.closed.join(', ')})`);
    check(printed.filters === 0, `printed, the filters are left out (${printed.filters} shown)`);
    await page.screenshot({ path: path.join(shots, 'report-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
} catch (error) {
    failures.push(String(error));
} finally {
    await browser.close();
}
result.failures = failures;
console.log(JSON.stringify(result));
process.exit(failures.length ? 1 : 0);
