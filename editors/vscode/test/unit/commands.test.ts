// Command wiring against the stubbed `vscode` module and a fake gateway.
import * as assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { CancellationToken } from 'vscode';
import { COMMANDS } from '../../src/commandTable';
import { Commands } from '../../src/commands';
import type { Gateway } from '../../src/gateway';
import type { ServerStatus } from '../../src/status';
import { stub, commands as vsCommands } from './stubs/vscode';

const ALL_SERVER_COMMANDS = [
    'concord.status',
    'concord.reload',
    'concord.crosswalk',
    'concord.queue',
    'concord.dispatch',
    'concord.autopilot',
    'concord.review',
    'concord.apply',
    'concord.approve',
    'concord.questions',
    'concord.answer',
    'concord.health',
    'concord.lock.acquire',
    'concord.lock.release',
    'concord.lock.sweep',
];

const QUEUE = [
    { id: 'WBS-004', title: 'Analytics events', status: 'review', risk: 'medium', eligible: false, why: 'in review' },
    { id: 'WBS-007', title: 'Calendar sync', status: 'todo', risk: 'low', eligible: true, why: null },
    { id: 'WBS-001', title: 'Platform', status: 'done', risk: 'low', eligible: false, why: 'done' },
    { id: 'WBS-010', title: 'Payments', status: 'review', risk: 'critical', eligible: false, why: 'awaiting approval' },
];

const QUESTIONS = [
    {
        id: 'Q-0001', question: 'Refunds to the card or store credit?', wbs: ['WBS-010'],
        options: [{ key: 'A', text: 'Back to the card.' }, { key: 'B', text: 'Store credit.' }],
        recommendation: { option: 'B', reason: 'cash flow' },
    },
    { id: 'Q-0002', question: 'Launch in March?', options: [{ key: 'A', text: 'Yes.' }, { key: 'B', text: 'No.' }] },
];

const HEALTH = {
    level: 'yellow',
    checked_at: '2026-12-05T20:00:00Z',
    summary: 'Look soon: the loop works, but 1 thing needs attention.',
    reasons: [
        {
            level: 'yellow', signal: 'stale_lock',
            text: "AGENT-2's lock on WBS-012 is 3d 0h old.",
            next: 'If AGENT-2 is no longer working on WBS-012, run `concord lock sweep`.',
        },
    ],
    facts: ['4 of the last 4 finished runs succeeded.', 'No smoke check is recorded.'],
    runs: { window: 10, counted: 4, failed: 0 }, reviews: 0, stale_locks: 1,
};

const STATUS: ServerStatus = { loaded: true, agent: 'AGENT-2', lock: null, coverage: { covered: 45, chunks: 344 }, gate_failures: 0 };

class FakeGateway implements Gateway {
    trusted = true;
    offered: string[] | undefined = [...ALL_SERVER_COMMANDS];
    sent: { command: string; argument?: object; token?: CancellationToken }[] = [];
    restarts: string[] = [];
    refreshed = 0;
    outputShown = 0;
    lines: string[] = [];
    answer: (command: string, argument?: object, token?: CancellationToken) => Promise<unknown> = async (command) => {
        if (command === 'concord.status' || command === 'concord.reload') return STATUS;
        if (command === 'concord.queue') return QUEUE;
        if (command === 'concord.questions') return QUESTIONS;
        if (command === 'concord.health') return HEALTH;
        return { ok: true, message: `${command}: done` };
    };
    log = {
        info: (m: string) => this.lines.push(`info ${m}`),
        warn: (m: string) => this.lines.push(`warn ${m}`),
        error: (m: string) => this.lines.push(`error ${m}`),
    };
    serverCommands() {
        return this.offered;
    }
    async execute(command: string, argument?: object, token?: CancellationToken) {
        this.sent.push({ command, argument, token });
        return this.answer(command, argument, token);
    }
    async restart(reason: string) {
        this.restarts.push(reason);
    }
    showOutput() {
        this.outputShown++;
    }
    async refreshStatus(status?: ServerStatus) {
        this.refreshed++;
        return status;
    }
    describeServer() {
        return { server: '/x/concord (bundled)', version: '0.1.0' };
    }
}

let gateway: FakeGateway;

function run(id: string, ...args: unknown[]): Promise<unknown> {
    return vsCommands.executeCommand(id, ...args);
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

beforeEach(() => {
    stub.reset();
    gateway = new FakeGateway();
    new Commands(gateway).register();
});

describe('palette commands', () => {
    it('registers a handler for every contributed command', () => {
        assert.deepEqual([...stub.registered.keys()].sort(), COMMANDS.map((c) => c.id).sort());
    });

    const simple: Array<[string, string]> = [
        ['concord.regenerateCrosswalk', 'concord.crosswalk'],
        ['concord.dispatchNext', 'concord.dispatch'],
        ['concord.reviewLatest', 'concord.review'],
        ['concord.applyReview', 'concord.apply'],
        ['concord.releaseLock', 'concord.lock.release'],
        ['concord.sweepLocks', 'concord.lock.sweep'],
    ];
    for (const [id, server] of simple) {
        it(`${id} sends ${server} with no argument, under a cancellable progress notification`, async () => {
            const result = await run(id);
            assert.deepEqual(gateway.sent.map((s) => [s.command, s.argument]), [[server, undefined]]);
            assert.ok(gateway.sent[0].token, 'a cancellation token is passed to the request');
            assert.deepEqual(result, { ok: true, message: `${server}: done` });
            assert.equal(stub.progress.length, 1);
            assert.equal(stub.progress[0].cancellable, true);
            assert.match(stub.progress[0].title ?? '', /^Concord: /);
            assert.ok(gateway.refreshed >= 1, 'the status bar is refreshed after an action');
        });
    }

    it('"Show status" asks concord.status, lists the details and returns the status', async () => {
        const status = await run('concord.showStatus');
        assert.deepEqual(status, STATUS);
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.status']);
        await tick();
        assert.equal(stub.quickPicks.length, 1);
        const labels = stub.quickPicks[0].items.map((i: { label: string; description?: string }) => `${i.label}: ${i.description ?? ''}`);
        assert.ok(labels.includes('Coverage: 45/344 covered (13%)'), labels.join('\n'));
        assert.ok(labels.includes('Lock: no lock'));
        assert.match(stub.quickPicks[0].options.title, /45\/344 covered/);
    });

    it('"Show status" offers only the actions the workspace allows and the server offers', async () => {
        gateway.offered = ['concord.status', 'concord.reload', 'concord.crosswalk'];
        await run('concord.showStatus');
        await tick();
        const actions = stub.quickPicks[0].items.filter((i: { command?: string }) => i.command).map((i: { command: string }) => i.command);
        assert.deepEqual(actions, ['concord.reloadWorkspace', 'concord.showOutput', 'concord.restartServer']);
        stub.quickPicks = [];
        gateway.offered = [...ALL_SERVER_COMMANDS];
        await run('concord.showStatus');
        await tick();
        const all = stub.quickPicks[0].items.filter((i: { command?: string }) => i.command).map((i: { command: string }) => i.command);
        assert.deepEqual(all, ['concord.reloadWorkspace', 'concord.acquireLock', 'concord.dispatchNext', 'concord.showOutput', 'concord.restartServer']);
    });

    it('"Show status" runs the action picked from its list', async () => {
        stub.quickPickAnswers.push('$(output) Show server log');
        await run('concord.showStatus');
        await tick();
        assert.equal(gateway.outputShown, 1);
    });

    it('"Reload workspace" sends concord.reload and reports coverage', async () => {
        await run('concord.reloadWorkspace');
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.reload']);
        assert.match(stub.messages.at(-1)!.text, /workspace reloaded · 45\/344 covered/);
    });

    it('"Dispatch a work item…" lists concord.queue (eligible first, done left out) and dispatches the pick', async () => {
        stub.quickPickAnswers.push('WBS-007');
        const result = await run('concord.dispatchItem');
        assert.deepEqual(gateway.sent.map((s) => [s.command, s.argument]), [
            ['concord.queue', undefined],
            ['concord.dispatch', { id: 'WBS-007' }],
        ]);
        const listed = stub.quickPicks[0].items.map((i: { label: string }) => i.label);
        assert.deepEqual(listed, ['WBS-007', 'WBS-004', 'WBS-010']);
        assert.match(stub.quickPicks[0].items[1].detail, /not eligible: in review/);
        assert.deepEqual(result, { ok: true, message: 'concord.dispatch: done' });
    });

    it('"Dispatch a work item…" does nothing when the pick is dismissed', async () => {
        stub.quickPickAnswers.push(undefined);
        assert.equal(await run('concord.dispatchItem'), undefined);
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.queue']);
    });

    it('"Dispatch a work item…" takes an ID as an argument without asking', async () => {
        await run('concord.dispatchItem', 'WBS-013');
        assert.deepEqual(gateway.sent.map((s) => [s.command, s.argument]), [['concord.dispatch', { id: 'WBS-013' }]]);
        assert.equal(stub.quickPicks.length, 0);
    });

    it('"Approve a work item…" offers the items in review and asks to confirm', async () => {
        stub.quickPickAnswers.push('WBS-010');
        stub.messageAnswers.push('Approve');
        await run('concord.approveItem');
        assert.deepEqual(stub.quickPicks[0].items.map((i: { label: string }) => i.label), ['WBS-004', 'WBS-010']);
        assert.ok(stub.messages.some((m) => m.level === 'warning' && /Approve WBS-010\?/.test(m.text)));
        assert.deepEqual(gateway.sent.at(-1), { command: 'concord.approve', argument: { id: 'WBS-010' }, token: gateway.sent.at(-1)!.token });
    });

    it('"Approve a work item…" sends nothing when the confirmation is declined', async () => {
        stub.quickPickAnswers.push('WBS-010');
        stub.messageAnswers.push(undefined);
        await run('concord.approveItem');
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.queue']);
    });

    it('"Run the autopilot…" shows the dry-run plan, and runs the loop under progress only when confirmed', async () => {
        gateway.answer = async (command, argument) =>
            command === 'concord.autopilot' && (argument as { dryRun?: boolean } | undefined)?.dryRun
                ? { ok: true, message: 'Autopilot plan (dry run; nothing is changed): …\n1. WBS-007 Calendar sync' }
                : { ok: true, message: `${command}: done` };
        stub.messageAnswers.push(undefined);
        await run('concord.runAutopilot');
        assert.deepEqual(gateway.sent.map((s) => [s.command, s.argument]), [['concord.autopilot', { dryRun: true }]]);
        const asked = stub.messages.find((m) => /Run the autopilot\?/.test(m.text));
        assert.ok(asked, 'the owner is asked first');
        assert.match(JSON.stringify(asked!.items), /1\. WBS-007 Calendar sync/);
        assert.equal(stub.progress.length, 0, 'declined: nothing ran');

        stub.messageAnswers.push('Run');
        const result = await run('concord.runAutopilot');
        assert.deepEqual(gateway.sent.at(-1)!.command, 'concord.autopilot');
        assert.deepEqual(gateway.sent.at(-1)!.argument, {});
        assert.ok(gateway.sent.at(-1)!.token, 'cancellable: the token reaches the request');
        assert.equal(stub.progress.length, 1);
        assert.equal(stub.progress[0].cancellable, true);
        assert.deepEqual(result, { ok: true, message: 'concord.autopilot: done' });
    });

    it('"Run the autopilot…" is refused in an untrusted workspace and sends nothing', async () => {
        gateway.trusted = false;
        await run('concord.runAutopilot');
        assert.deepEqual(gateway.sent, []);
        assert.ok(stub.messages.some((m) => m.level === 'warning' && /not trusted/.test(m.text)));
    });

    it('"Show health" asks concord.health under progress, says the level as a word and lists each reason with what to do', async () => {
        const health = await run('concord.showHealth');
        assert.deepEqual(health, HEALTH);
        assert.deepEqual(gateway.sent.map((s) => [s.command, s.argument]), [['concord.health', undefined]]);
        assert.match(stub.progress[0].title ?? '', /^Concord: Checking the agent loop's health/);
        await tick();
        const message = stub.messages.find((m) => /Concord health/.test(m.text));
        assert.deepEqual([message?.level, message?.text], ['warning', 'Concord health: Yellow. Look soon: the loop works, but 1 thing needs attention.']);
        const items = stub.quickPicks[0].items;
        assert.deepEqual(items.map((i: { label: string }) => i.label), [
            '$(warning) Yellow',
            '$(warning) Yellow',
            'What was looked at',
            '4 of the last 4 finished runs succeeded.',
            'No smoke check is recorded.',
        ]);
        assert.equal(items[1].description, HEALTH.reasons[0].text);
        assert.equal(items[1].detail, `Next: ${HEALTH.reasons[0].next}`);
        assert.equal(items[2].kind, -1, 'the facts are under a separator');
    });

    it('"Show health" is an error message on red, a plain one on green, and works in an untrusted workspace', async () => {
        gateway.trusted = false;
        gateway.answer = async () => ({ ...HEALTH, level: 'red', summary: 'Stop: fix what is below before the agent loop runs again.' });
        await run('concord.showHealth');
        gateway.answer = async () => ({ ...HEALTH, level: 'green', summary: 'Healthy: the agent loop is working.', reasons: [] });
        await run('concord.showHealth');
        await tick();
        const said = stub.messages.filter((m) => /Concord health/.test(m.text)).map((m) => [m.level, m.text]);
        assert.deepEqual(said, [
            ['error', 'Concord health: Red. Stop: fix what is below before the agent loop runs again.'],
            ['info', 'Concord health: Green. Healthy: the agent loop is working.'],
        ]);
        // An answer that is not a health report is said so, not shown as one.
        gateway.answer = async () => ({ ok: true });
        assert.equal(await run('concord.showHealth'), undefined);
        assert.ok(stub.messages.some((m) => /not a health report/.test(m.text)));
    });

    it('"Answer an owner question…" picks a pending question, then its option (recommended first)', async () => {
        stub.quickPickAnswers.push('Q-0001');
        stub.quickPickAnswers.push('A');
        await run('concord.answerQuestion');
        assert.deepEqual(stub.quickPicks[0].items.map((i: { label: string }) => i.label), ['Q-0001', 'Q-0002']);
        assert.deepEqual(stub.quickPicks[1].items.map((i: { label: string }) => i.label), ['B', 'A']);
        assert.match(stub.quickPicks[1].items[0].detail, /Recommended: cash flow/);
        assert.deepEqual(gateway.sent.at(-1), { command: 'concord.answer', argument: { id: 'Q-0001', option: 'A' }, token: gateway.sent.at(-1)!.token });
    });

    it('"Answer an owner question…" says so when none is pending, and sends nothing when dismissed', async () => {
        gateway.answer = async (command) => (command === 'concord.questions' ? [] : { ok: true });
        await run('concord.answerQuestion');
        assert.ok(stub.messages.some((m) => /no owner question is pending/.test(m.text)));
        gateway.answer = async (command) => (command === 'concord.questions' ? QUESTIONS : { ok: true });
        stub.quickPickAnswers.push('Q-0002');
        stub.quickPickAnswers.push(undefined);
        await run('concord.answerQuestion');
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.questions', 'concord.questions']);
    });

    it('"Acquire a lock…" picks the task and takes optional scope globs', async () => {
        stub.quickPickAnswers.push('WBS-007');
        stub.inputBoxAnswers.push(' services/calendar/** , tests/python/test_calendar*.py ,');
        await run('concord.acquireLock');
        assert.deepEqual(gateway.sent.at(-1)!.argument, { task: 'WBS-007', scope: ['services/calendar/**', 'tests/python/test_calendar*.py'] });

        stub.quickPickAnswers.push('WBS-007');
        stub.inputBoxAnswers.push('');
        await run('concord.acquireLock');
        assert.deepEqual(gateway.sent.at(-1)!.argument, { task: 'WBS-007' });
    });

    it('"Restart server" and "Show server log" act on the client', async () => {
        await run('concord.restartServer');
        await run('concord.showOutput');
        assert.equal(gateway.restarts.length, 1);
        assert.equal(gateway.outputShown, 1);
    });

    it('refuses every trusted command in an untrusted workspace without contacting the server', async () => {
        gateway.trusted = false;
        for (const c of COMMANDS.filter((x) => x.trusted)) {
            stub.quickPickAnswers.push('WBS-007');
            await run(c.id);
        }
        assert.equal(gateway.sent.length, 0);
        const warnings = stub.messages.filter((m) => m.level === 'warning');
        assert.equal(warnings.length, COMMANDS.filter((x) => x.trusted).length);
        assert.match(warnings[0].text, /not trusted \(read-only mode\)/);
        // Read-only commands still work.
        await run('concord.showStatus');
        assert.deepEqual(gateway.sent.map((s) => s.command), ['concord.status']);
    });

    it('names the missing server command when the server does not offer it', async () => {
        gateway.offered = ['concord.status', 'concord.reload', 'concord.crosswalk'];
        await run('concord.dispatchNext');
        assert.equal(gateway.sent.length, 0);
        assert.match(stub.messages.at(-1)!.text, /does not offer concord\.dispatch.*concord 0\.1\.0|concord 0\.1\.0.*does not offer concord\.dispatch/);
        await run('concord.dispatchItem');
        assert.match(stub.messages.at(-1)!.text, /does not offer concord\.queue/);
    });

    it('says so when the server is not running, offering a restart', async () => {
        gateway.offered = undefined;
        stub.messageAnswers.push('Restart server');
        await run('concord.regenerateCrosswalk');
        await tick();
        assert.match(stub.messages.at(-1)!.text, /not running/);
        assert.equal(gateway.restarts.length, 1);
    });

    it('reports a server error with the server’s own words', async () => {
        gateway.answer = async () => {
            throw Object.assign(new Error('concord.crosswalk is refused: the workspace is not trusted'), { code: -32600 });
        };
        assert.equal(await run('concord.regenerateCrosswalk'), undefined);
        const last = stub.messages.at(-1)!;
        assert.equal(last.level, 'error');
        assert.match(last.text, /"Regenerate crosswalk" failed: concord\.crosswalk is refused/);
        assert.ok(gateway.lines.some((l) => l.startsWith('error concord.crosswalk failed')));
    });

    it('cancels: the notification’s token reaches the request and the command ends at once', async () => {
        let seen: CancellationToken | undefined;
        gateway.answer = (_command, _argument, token) => {
            seen = token;
            return new Promise(() => undefined); // a server that never answers
        };
        stub.cancelNextProgress = true;
        const result = await run('concord.reviewLatest');
        assert.equal(result, undefined);
        assert.equal(seen?.isCancellationRequested, true);
        assert.match(stub.messages.at(-1)!.text, /"Review latest run" was cancelled/);
    });

    it('treats the server’s RequestCancelled answer as a cancellation, not a failure', async () => {
        gateway.answer = async () => {
            throw Object.assign(new Error('canceled'), { code: -32800 });
        };
        await run('concord.sweepLocks');
        assert.equal(stub.messages.at(-1)!.level, 'info');
        assert.match(stub.messages.at(-1)!.text, /cancelled/);
    });

    it('logs a refused action ({ok: false}) to the output without a second message', async () => {
        gateway.answer = async () => ({ ok: false, message: 'WBS-007 overlaps the lock of AGENT-2' });
        const before = stub.messages.length;
        await run('concord.dispatchNext');
        assert.equal(stub.messages.length, before, 'the server shows the message itself');
        assert.ok(gateway.lines.some((l) => l.includes('warn Dispatch next work item: WBS-007 overlaps')));
    });
});
