// The shapes the server answers with, and how the status bar shows them. No `vscode` import.

/** `concord.status` / `concord.reload` (docs/commands.md). */
export interface ServerStatus {
    loaded: boolean;
    agent?: string | null;
    trusted?: boolean;
    lock?: { task: string; scope?: string[] | null; since?: string | null } | null;
    coverage?: { covered: number; chunks: number };
    gate_failures?: number;
}

/** `concord.health` (docs/schemas/health.schema.json). */
export interface HealthReport {
    level: 'green' | 'yellow' | 'red';
    summary: string;
    reasons: { level: 'green' | 'yellow' | 'red'; signal: string; text: string; next: string }[];
    facts: string[];
}

export function isHealthReport(value: unknown): value is HealthReport {
    const h = value as HealthReport | undefined;
    return typeof h === 'object' && h !== null && typeof h.level === 'string' && Array.isArray(h.reasons) && Array.isArray(h.facts);
}

const LEVEL_ICON: Record<string, string> = { green: '$(pass)', yellow: '$(warning)', red: '$(error)' };

/** The level as a word (never a colour or an icon alone). */
export function levelWord(level: string): string {
    return level.charAt(0).toUpperCase() + level.slice(1);
}

/** The rows "Show health" lists: the level, each reason with what to do, then what was looked at. */
export function healthRows(health: HealthReport): Array<{ label: string; description?: string; detail?: string; separator?: boolean }> {
    const rows: Array<{ label: string; description?: string; detail?: string; separator?: boolean }> = [
        { label: `${LEVEL_ICON[health.level] ?? ''} ${levelWord(health.level)}`.trim(), description: health.summary },
    ];
    for (const r of health.reasons) {
        rows.push({ label: `${LEVEL_ICON[r.level] ?? ''} ${levelWord(r.level)}`.trim(), description: r.text, detail: `Next: ${r.next}` });
    }
    rows.push({ label: 'What was looked at', separator: true });
    for (const fact of health.facts) rows.push({ label: fact });
    return rows;
}

/** One entry of `concord.queue`. */
/** An owner question as `concord.questions` returns it. */
export interface OwnerQuestion {
    id: string;
    question: string;
    options: { key: string; text: string }[];
    recommendation?: { option: string; reason: string };
    wbs?: string[];
    chunks?: string[];
    proposal?: string;
}

export interface QueueItem {
    id: string;
    title?: string;
    status?: string;
    risk?: string;
    eligible?: boolean;
    why?: string | null;
}

/** The result of the commands that act (`{ok, message, ...}`). */
export interface ActionResult {
    ok: boolean;
    message?: string;
    [key: string]: unknown;
}

export function isActionResult(value: unknown): value is ActionResult {
    return typeof value === 'object' && value !== null && typeof (value as ActionResult).ok === 'boolean';
}

export function coverageText(status: ServerStatus): string | undefined {
    const c = status.coverage;
    if (!c || typeof c.chunks !== 'number') return undefined;
    const percent = c.chunks > 0 ? Math.floor((100 * c.covered) / c.chunks) : 0;
    return `${c.covered}/${c.chunks} covered (${percent}%)`;
}

export function scopeText(scope: readonly string[] | null | undefined, max = 40): string {
    if (!scope || scope.length === 0) return 'no scope';
    const joined = scope.join(', ');
    return joined.length <= max ? joined : `${joined.slice(0, max - 1)}…`;
}

export interface StatusBarView {
    text: string;
    tooltip: string;
    /** 'error' and 'warning' tint the item. */
    tone?: 'error' | 'warning';
}

export type ClientState =
    | { kind: 'starting' }
    | { kind: 'running'; status?: ServerStatus; trusted: boolean }
    | { kind: 'failed'; message: string }
    | { kind: 'stopped' };

/** What the status bar item shows: the active agent's lock (task, scope) or "no lock", and coverage. */
export function statusBarView(state: ClientState): StatusBarView {
    switch (state.kind) {
        case 'starting':
            return { text: '$(sync~spin) Concord', tooltip: 'Concord: starting the server…' };
        case 'stopped':
            return { text: '$(circle-slash) Concord', tooltip: 'Concord: the server is stopped. Click for details.' };
        case 'failed':
            return { text: '$(error) Concord', tooltip: `Concord: ${state.message}`, tone: 'error' };
        case 'running': {
            const readOnly = state.trusted ? '' : '$(shield) ';
            const s = state.status;
            if (!s || !s.loaded) {
                return { text: `${readOnly}$(sync~spin) Concord`, tooltip: 'Concord: scanning the workspace…' };
            }
            const lock = s.lock ? `$(lock) ${s.lock.task} · ${scopeText(s.lock.scope, 24)}` : '$(unlock) no lock';
            const coverage = coverageText(s);
            const text = `${readOnly}${lock}${coverage ? ` · ${coverage}` : ''}`;
            const lines = [
                `Concord${state.trusted ? '' : ' (read-only: the workspace is not trusted)'}`,
                `Agent: ${s.agent ?? 'none set (concord.agent.id)'}`,
                s.lock
                    ? `Lock: ${s.lock.task} on ${scopeText(s.lock.scope, 200)}${s.lock.since ? ` since ${s.lock.since}` : ''}`
                    : 'Lock: none',
                `Coverage: ${coverage ?? 'unknown'}`,
            ];
            if (typeof s.gate_failures === 'number') lines.push(`Gate failures: ${s.gate_failures}`);
            lines.push('Click for details and actions.');
            const tone = (s.gate_failures ?? 0) > 0 ? 'warning' : undefined;
            return { text, tooltip: lines.join('\n'), tone };
        }
    }
}

/** The lines "Show status" lists (label, detail). */
export function statusDetails(status: ServerStatus, extra: { server?: string; version?: string; trusted: boolean }): Array<[string, string]> {
    const rows: Array<[string, string]> = [];
    rows.push(['Agent', status.agent ?? 'none (set concord.agent.id or CONCORD_AGENT)']);
    rows.push([
        'Lock',
        status.lock
            ? `${status.lock.task} · ${scopeText(status.lock.scope, 200)}${status.lock.since ? ` · since ${status.lock.since}` : ''}`
            : 'no lock',
    ]);
    rows.push(['Coverage', status.loaded ? coverageText(status) ?? 'unknown' : 'the workspace is still loading']);
    if (typeof status.gate_failures === 'number') rows.push(['Gate failures', String(status.gate_failures)]);
    rows.push(['Workspace', extra.trusted ? 'trusted' : 'not trusted: read-only (hover, navigation, diagnostics)']);
    if (extra.server) rows.push(['Server', `${extra.server}${extra.version ? ` (concord ${extra.version})` : ''}`]);
    return rows;
}
