// The protocol contract the extension relies on, checked against the real server binary from
// Node with vscode-jsonrpc: capabilities, the command list (with an explicit list of commands
// the extension contributes that the server does not offer yet), the shapes of the answers,
// trust, cancellation, diagnostics and hover on the demo workspace.
//
// Binary: $CONCORD_BIN, else target/release/concord, else target/debug/concord.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource, MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { serverCommandsUsed, trustedServerCommands } from '../../src/commandTable';
import { InitializationOptions } from '../../src/settings';

const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..');
const DEMO = path.join(REPO, 'examples', 'marketplace');

/**
 * Server commands the extension contributes a palette entry for but the server does not offer
 * yet. The test fails when the server starts offering one of these (move it out of this list)
 * or stops offering one that is not here.
 */
const PENDING_SERVER_SUPPORT: readonly string[] = [];

/** Commands the server must offer today. */
const REQUIRED_NOW: readonly string[] = [
    'concord.status',
    'concord.queue',
    'concord.reload',
    'concord.crosswalk',
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

function findBinary(): string {
    const candidates = [
        process.env.CONCORD_BIN,
        path.join(REPO, 'target', 'release', 'concord'),
        path.join(REPO, 'target', 'debug', 'concord'),
    ].filter((c): c is string => !!c);
    const found = candidates.find((c) => fs.existsSync(c));
    if (!found) throw new Error(`no concord binary: build it first (looked at ${candidates.join(', ')})`);
    return found;
}

interface Diagnostic {
    range: { start: { line: number; character: number } };
    code?: string | number;
    message: string;
    severity?: number;
    source?: string;
}

class Session {
    readonly connection: MessageConnection;
    readonly diagnostics = new Map<string, Diagnostic[]>();
    readonly messages: { type: number; message: string }[] = [];
    readonly progressCreated: unknown[] = [];
    private readonly waiters: Array<() => void> = [];
    initializeResult: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    stderr = '';

    constructor(
        readonly child: ChildProcess,
        readonly root: string,
    ) {
        this.connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
        child.stderr!.on('data', (chunk) => (this.stderr += chunk));
        this.connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: Diagnostic[] }) => {
            this.diagnostics.set(params.uri, params.diagnostics);
            this.wake();
        });
        this.connection.onNotification('window/showMessage', (params: { type: number; message: string }) => {
            this.messages.push(params);
            this.wake();
        });
        this.connection.onNotification('window/logMessage', () => undefined);
        this.connection.onNotification('$/progress', () => undefined);
        // Requests a real editor answers.
        this.connection.onRequest('window/workDoneProgress/create', (params: unknown) => {
            this.progressCreated.push(params);
            return null;
        });
        this.connection.onRequest('client/registerCapability', () => null);
        this.connection.onRequest('workspace/diagnostic/refresh', () => null);
        this.connection.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => null));
        this.connection.listen();
    }

    private wake(): void {
        for (const w of this.waiters.splice(0)) w();
    }

    /** Wait until `check` holds (it may ask the server), re-checking on each notification and every 100 ms. */
    async until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 20_000): Promise<T> {
        const deadline = Date.now() + ms;
        for (;;) {
            const value = await check();
            if (value) return value;
            if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; server stderr:\n${this.stderr}`);
            await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, 100);
                this.waiters.push(() => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
    }

    uri(rel: string): string {
        return pathToFileURL(path.join(this.root, rel)).href;
    }

    execute(command: string, argument?: object): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
        return this.connection.sendRequest('workspace/executeCommand', { command, arguments: argument ? [argument] : [] });
    }

    async loadedStatus(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
        const deadline = Date.now() + 30_000;
        for (;;) {
            const status = await this.execute('concord.status');
            if (status?.loaded) return status;
            if (Date.now() > deadline) throw new Error(`the workspace did not load; stderr:\n${this.stderr}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }

    async close(): Promise<number | null> {
        const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
        try {
            await this.connection.sendRequest('shutdown');
            await this.connection.sendNotification('exit');
        } catch {
            this.child.kill('SIGKILL');
        }
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        this.connection.dispose();
        return code;
    }
}

function copyDemo(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-contract-'));
    fs.cpSync(DEMO, dir, { recursive: true });
    return dir;
}

async function startSession(root: string, options: InitializationOptions, env: Record<string, string> = {}): Promise<Session> {
    const child = spawn(findBinary(), ['lsp'], {
        cwd: root,
        env: { ...process.env, CONCORD_LOG: 'info', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
    });
    const session = new Session(child, root);
    // The client capabilities VS Code's language client sends that change the server's behaviour.
    session.initializeResult = await session.connection.sendRequest('initialize', {
        processId: process.pid,
        clientInfo: { name: 'concord-contract-test', version: '1' },
        rootUri: pathToFileURL(root).href,
        workspaceFolders: [{ uri: pathToFileURL(root).href, name: path.basename(root) }],
        initializationOptions: options,
        capabilities: {
            general: { positionEncodings: ['utf-16'] },
            window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: true } } },
            workspace: {
                didChangeWatchedFiles: { dynamicRegistration: true },
                executeCommand: { dynamicRegistration: true },
                configuration: true,
                workspaceFolders: true,
                diagnostics: { refreshSupport: true },
            },
            textDocument: {
                hover: { contentFormat: ['markdown', 'plaintext'] },
                diagnostic: { dynamicRegistration: true, relatedDocumentSupport: false },
                publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true },
                synchronization: { didSave: true, dynamicRegistration: true },
            },
        },
        trace: 'off',
    });
    await session.connection.sendNotification('initialized', {});
    return session;
}

describe('protocol contract with the concord server', () => {
    let root: string;
    let readOnly: Session;

    before(async () => {
        root = copyDemo();
        // What the extension sends in an untrusted workspace, with every option it has.
        readOnly = await startSession(
            root,
            { agent: 'AGENT-2', agentPreset: 'cursor-agent', trusted: false, debounceMs: 50, logLevel: 'info' },
            { CONCORD_TEST_COMMANDS: '1' },
        );
    });

    after(async () => {
        if (readOnly) assert.equal(await readOnly.close(), 0, 'the server exits 0 after shutdown + exit');
        fs.rmSync(root, { recursive: true, force: true });
    });

    it('identifies itself and offers the capabilities the extension uses', () => {
        const result = readOnly.initializeResult;
        assert.equal(result.serverInfo?.name, 'concord');
        assert.match(result.serverInfo?.version ?? '', /^\d+\.\d+\.\d+/);
        const caps = result.capabilities;
        assert.equal(caps.positionEncoding, 'utf-16');
        assert.equal(caps.textDocumentSync?.openClose, true);
        assert.equal(caps.textDocumentSync?.change, 2, 'incremental sync');
        assert.ok(caps.hoverProvider, 'hover');
        assert.ok(caps.definitionProvider, 'definition');
        assert.ok(caps.referencesProvider, 'references');
        assert.ok(caps.completionProvider, 'completion');
        assert.ok(caps.workspaceSymbolProvider, 'workspace symbols');
        assert.ok(caps.documentLinkProvider, 'document links');
        assert.ok(caps.codeActionProvider, 'code actions (quick fixes)');
        assert.ok(caps.codeLensProvider, 'code lenses');
        assert.ok(Array.isArray(caps.executeCommandProvider?.commands), 'executeCommandProvider.commands');
    });

    it('offers every server command the extension contributes, except the explicitly pending ones', () => {
        const offered: string[] = [...readOnly.initializeResult.capabilities.executeCommandProvider.commands].sort();
        const used = serverCommandsUsed();
        for (const c of REQUIRED_NOW) assert.ok(offered.includes(c), `the server must offer ${c}`);
        for (const c of PENDING_SERVER_SUPPORT) {
            assert.ok(used.includes(c), `${c} is listed as pending but the extension does not use it`);
            assert.ok(
                !offered.includes(c),
                `the server now offers ${c}: remove it from PENDING_SERVER_SUPPORT in test/contract/contract.test.ts and assert its result shape`,
            );
        }
        const missing = used.filter((c) => !offered.includes(c) && !PENDING_SERVER_SUPPORT.includes(c));
        assert.deepEqual(missing, [], `the server no longer offers ${missing.join(', ')}, which the extension's palette sends`);
        const offeredForTests = offered.filter((c) => !c.startsWith('concord.test.'));
        const unknown = offeredForTests.filter((c) => !used.includes(c));
        assert.deepEqual(unknown, [], `the server offers ${unknown.join(', ')}, which no palette command of the extension sends`);
        assert.deepEqual([...offeredForTests, ...PENDING_SERVER_SUPPORT].sort(), used, 'offered + pending = what the extension sends');
    });

    it('answers concord.status with the shape the status bar reads (lock of the active agent, coverage)', async () => {
        const status = await readOnly.loadedStatus();
        assert.equal(status.loaded, true);
        assert.equal(status.agent, 'AGENT-2');
        assert.equal(status.trusted, false);
        assert.equal(status.lock.task, 'WBS-012');
        assert.ok(Array.isArray(status.lock.scope) && status.lock.scope.length > 0, 'lock.scope is a list of globs');
        assert.equal(typeof status.lock.since, 'string');
        assert.equal(typeof status.coverage.covered, 'number');
        assert.equal(status.coverage.chunks, 345, 'the demo has 344 indexed chunks and one defined only by its heading');
        assert.ok(status.coverage.covered > 0 && status.coverage.covered < status.coverage.chunks);
        assert.equal(typeof status.gate_failures, 'number');
    });

    it('answers concord.queue with the items the pickers list', async () => {
        const queue: Array<{ id: string; title: string; status: string; risk: string; eligible: boolean; why: string | null }> =
            await readOnly.execute('concord.queue');
        assert.ok(queue.length >= 20);
        for (const item of queue) {
            assert.match(item.id, /^WBS-\d{3}[A-Z]?$/);
            assert.equal(typeof item.title, 'string');
            assert.ok(['todo', 'in_progress', 'review', 'awaiting_approval', 'done', 'blocked'].includes(item.status), item.status);
            assert.equal(typeof item.eligible, 'boolean');
            assert.ok(item.eligible ? item.why === null : typeof item.why === 'string');
        }
        assert.ok(queue.some((i) => i.eligible), 'the demo has eligible items');
    });

    it('answers concord.health with the report "Show health" lists, in an untrusted workspace too', async () => {
        const health = await readOnly.execute('concord.health');
        assert.ok(['green', 'yellow', 'red'].includes(health.level), health.level);
        assert.equal(typeof health.summary, 'string');
        assert.ok(health.facts.length > 0 && health.facts.every((f: unknown) => typeof f === 'string'));
        for (const r of health.reasons) {
            assert.ok(['yellow', 'red'].includes(r.level) && typeof r.text === 'string' && typeof r.next === 'string', JSON.stringify(r));
        }
        // The demo's lock of AGENT-2 is long stale.
        assert.ok(health.reasons.some((r: { signal: string }) => r.signal === 'stale_lock'), JSON.stringify(health));
    });

    it('advertises which settings it applies live', async () => {
        const live: string[] = readOnly.initializeResult.capabilities.experimental.concord.liveSettings;
        for (const key of ['agent', 'agentPreset', 'debounceMs', 'trusted']) {
            assert.ok(live.includes(key), key);
        }
    });

    it('answers concord.reload with a status after reloading', async () => {
        const status = await readOnly.execute('concord.reload');
        assert.equal(status.loaded, true);
        assert.equal(status.lock.task, 'WBS-012');
        assert.equal(typeof status.coverage.chunks, 'number');
    });

    it('refuses every trusted command it offers in an untrusted workspace, with a message', async () => {
        const offered: string[] = readOnly.initializeResult.capabilities.executeCommandProvider.commands;
        const trusted = trustedServerCommands().filter((c) => offered.includes(c));
        assert.ok(trusted.includes('concord.crosswalk'));
        for (const command of trusted) {
            await assert.rejects(readOnly.execute(command, command === 'concord.approve' ? { id: 'WBS-010' } : undefined), (error: { code: number; message: string }) => {
                assert.equal(error.code, -32600, `${command}: InvalidRequest`);
                assert.match(error.message, /not trusted/);
                return true;
            });
        }
        assert.ok(!fs.existsSync(path.join(root, 'docs', 'blueprints', 'crosswalk.json')), 'nothing was written');
    });

    it('answers an unknown command with an error that lists what it offers', async () => {
        await assert.rejects(readOnly.execute('concord.nope'), (error: { code: number; message: string }) => {
            assert.equal(error.code, -32602);
            assert.match(error.message, /concord\.status/);
            return true;
        });
    });

    it('answers the pulled diagnostics the extension shows in Problems, with result IDs', async () => {
        const caps = readOnly.initializeResult.capabilities;
        assert.equal(caps.diagnosticProvider?.workspaceDiagnostics, true, 'VS Code pulls: the server offers pull');
        const refunds = readOnly.uri('services/payments/refunds.py');
        const cleanup = readOnly.uri('tools/cleanup.py');
        type Report = { uri?: string; kind: string; resultId?: string; items?: Diagnostic[] };
        // The workspace pull: files that are not open, in the default scope (errors, ops files).
        const workspace = await readOnly.until(async () => {
            const result = await readOnly.connection.sendRequest<{ items: Report[] }>('workspace/diagnostic', { previousResultIds: [] });
            return result.items.some((i) => i.uri === refunds) ? result : undefined;
        }, 'refunds.py in the workspace pull');
        const entry = workspace.items.find((i) => i.uri === refunds)!;
        const unknown = entry.items!.find((d) => d.code === 'unknown-id' && d.message.includes('TD-0130'))!;
        assert.ok(unknown, JSON.stringify(entry));
        assert.equal(unknown.source, 'concord');
        assert.equal(unknown.severity, 1, 'an unknown ID is an error');
        assert.equal(unknown.range.start.line, 32);
        assert.match(unknown.message, /TD-0103/, 'with "did you mean"');
        assert.ok(!workspace.items.some((i) => i.uri === cleanup), 'a warning of a file that is not open stays out of the workspace pull');
        // The document pull VS Code sends when cleanup.py is opened: its untraced-file warning.
        const first = await readOnly.connection.sendRequest<Report>('textDocument/diagnostic', { textDocument: { uri: cleanup } });
        assert.equal(first.kind, 'full');
        assert.ok(first.items!.some((d) => d.code === 'untraced-file'), JSON.stringify(first));
        const again = await readOnly.connection.sendRequest<Report>('textDocument/diagnostic', { textDocument: { uri: cleanup }, previousResultId: first.resultId });
        assert.deepEqual(again, { kind: 'unchanged', resultId: first.resultId });
        assert.equal(readOnly.diagnostics.size, 0, 'nothing is pushed to a client that pulls');
    });

    it('shows a chunk’s title on hover, in an open document', async () => {
        const uri = readOnly.uri('services/payments/refunds.py');
        const text = fs.readFileSync(path.join(root, 'services/payments/refunds.py'), 'utf8');
        await readOnly.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
        const line = text.split('\n').findIndex((l) => l.includes('TD-0104'));
        const character = text.split('\n')[line].indexOf('TD-0104') + 2;
        const hover: { contents: { kind: string; value: string } } = await readOnly.connection.sendRequest('textDocument/hover', {
            textDocument: { uri },
            position: { line, character },
        });
        assert.equal(hover.contents.kind, 'markdown');
        assert.match(hover.contents.value, /TD-0104/);
        assert.match(hover.contents.value, /Refunds and partial refunds/);
    });

    it('honours $/cancelRequest on a running command (the palette’s Cancel button)', async () => {
        // concord.test.sleep exists only when the server runs with CONCORD_TEST_COMMANDS set.
        const source = new CancellationTokenSource();
        const started = Date.now();
        const request = readOnly.connection.sendRequest('workspace/executeCommand', { command: 'concord.test.sleep', arguments: [10_000] }, source.token);
        setTimeout(() => source.cancel(), 200);
        await assert.rejects(request, (error: { code: number }) => {
            assert.equal(error.code, -32800, 'RequestCancelled');
            return true;
        });
        assert.ok(Date.now() - started < 5000, 'the cancellation ended the request early');
    });

    it('writes the crosswalk when trusted, and says so', async () => {
        const trustedRoot = copyDemo();
        const trusted = await startSession(trustedRoot, { agent: 'AGENT-2', trusted: true, debounceMs: 150, logLevel: 'warn' });
        try {
            const status = await trusted.loadedStatus();
            assert.equal(status.trusted, true);
            const result = await trusted.execute('concord.crosswalk');
            assert.equal(result.ok, true);
            assert.match(result.message, /crosswalk written/);
            const written = JSON.parse(fs.readFileSync(path.join(trustedRoot, 'docs', 'blueprints', 'crosswalk.json'), 'utf8'));
            assert.ok(written);
            await trusted.until(() => trusted.messages.find((m) => /crosswalk written/.test(m.message)), 'the crosswalk message');
            // Locks from the palette: {ok, message}, and a refusal is an ok: false with its reason.
            const released = await trusted.execute('concord.lock.release');
            assert.equal(released.ok, true, released.message);
            const taken = await trusted.execute('concord.lock.acquire', { task: 'WBS-007' });
            assert.equal(taken.ok, true, taken.message);
            assert.match(taken.message, /AGENT-2 holds the lock for WBS-007/);
            const again = await trusted.execute('concord.lock.acquire', { task: 'WBS-008' });
            assert.equal(again.ok, false);
            assert.match(again.message, /already holds a lock/);
            await trusted.until(() => trusted.messages.find((m) => /already holds a lock/.test(m.message)), 'the refusal is shown as a message');
            const nothing = await trusted.execute('concord.apply');
            assert.equal(nothing.ok, false, 'no review to apply');
        } finally {
            assert.equal(await trusted.close(), 0);
            fs.rmSync(trustedRoot, { recursive: true, force: true });
        }
    });

    it('starts with no initialization options at all (another editor) and reports no agent', async () => {
        const bareRoot = copyDemo();
        const bare = await startSession(bareRoot, undefined as unknown as InitializationOptions, { CONCORD_AGENT: '' });
        try {
            const status = await bare.loadedStatus();
            assert.equal(status.trusted, false);
            assert.equal(status.agent, null);
            assert.equal(status.lock, null);
        } finally {
            await bare.close();
            fs.rmSync(bareRoot, { recursive: true, force: true });
        }
    });
});
