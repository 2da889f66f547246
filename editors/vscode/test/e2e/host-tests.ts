// Tests that run inside code-server's real extension host (loaded by host-runner), asserting
// through the real `vscode` API what the browser test checks on screen.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscodeApi from 'vscode';
import type { ConcordApi } from '../../src/extension';

type Vscode = typeof vscodeApi;
type Register = (name: string, fn: () => Promise<void>) => void;

const EXTENSION_ID = 'concord.concord';

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined && value !== false) return value;
        } catch (error) {
            last = error;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}

function codeOf(d: vscodeApi.Diagnostic): string {
    const code = d.code;
    if (typeof code === 'object' && code !== null) return String(code.value);
    return String(code ?? '');
}

function hoverText(hovers: vscodeApi.Hover[]): string {
    return hovers
        .flatMap((h) => h.contents)
        .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
        .join('\n');
}

export function register(vscode: Vscode, test: Register): void {
    const folder = () => vscode.workspace.workspaceFolders![0].uri;
    const file = (rel: string) => vscode.Uri.joinPath(folder(), ...rel.split('/'));
    let api: ConcordApi;

    test('the extension activates and its server loads the workspace', async () => {
        const ext = vscode.extensions.getExtension<ConcordApi>(EXTENSION_ID);
        assert.ok(ext, `${EXTENSION_ID} is installed`);
        api = await ext.activate();
        const status = await api.ready(90_000);
        assert.equal(status.loaded, true);
    });

    if (!vscode.workspace.isTrusted) {
        registerUntrusted(vscode, test, () => api, file, folder);
        return;
    }

    test('the workspace is trusted (trust is off in this test profile)', async () => {
        assert.equal(vscode.workspace.isTrusted, true);
    });

    test('the bundled binary runs, started with the settings as initialization options', async () => {
        const server = api.server();
        assert.equal(server?.source, 'bundled', `server: ${JSON.stringify(server)}`);
        assert.match(server!.command, /[\\/]server[\\/]concord(\.exe)?$/);
        assert.deepEqual(api.initializationOptions(), { agent: 'AGENT-2', trusted: true, debounceMs: 150, logLevel: 'info' });
    });

    test('every palette command and the server commands are registered', async () => {
        const all = new Set(await vscode.commands.getCommands(true));
        const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
        const contributed: string[] = ext.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
        for (const id of contributed) assert.ok(all.has(id), `${id} is registered`);
        for (const id of api.serverCommands() ?? []) assert.ok(all.has(id), `server command ${id} is registered by the client`);
        assert.ok((api.serverCommands() ?? []).includes('concord.status'));
    });

    test('hovering an ID shows its title', async () => {
        const uri = file('services/payments/refunds.py');
        const doc = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(doc);
        const line = doc.getText().split('\n').findIndex((l) => l.includes('TD-0104'));
        const position = new vscode.Position(line, doc.lineAt(line).text.indexOf('TD-0104') + 3);
        const text = await eventually('a hover on TD-0104', async () => {
            const hovers = await vscode.commands.executeCommand<vscodeApi.Hover[]>('vscode.executeHoverProvider', uri, position);
            const joined = hoverText(hovers ?? []);
            return joined.includes('Refunds and partial refunds') ? joined : undefined;
        });
        assert.match(text, /TD-0104/);
    });

    test('the traceability findings are in the diagnostics (Problems)', async () => {
        const refunds = file('services/payments/refunds.py');
        const unknown = await eventually('unknown-id TD-0130 in refunds.py', () =>
            vscode.languages.getDiagnostics(refunds).find((d) => codeOf(d) === 'unknown-id' && d.message.includes('TD-0130')),
        );
        assert.equal(unknown.source, 'concord');
        assert.equal(unknown.severity, vscode.DiagnosticSeverity.Error);
        assert.equal(unknown.range.start.line, 32);
        // A warning shows once its file is open (the default scope keeps Problems to open files,
        // ops files and errors).
        const cleanup = file('tools/cleanup.py');
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(cleanup));
        await eventually('untraced-file in tools/cleanup.py', () =>
            vscode.languages.getDiagnostics(cleanup).find((d) => codeOf(d) === 'untraced-file'),
        );
    });

    test('a quick fix is offered for the unknown ID', async () => {
        const uri = file('services/payments/refunds.py');
        const diagnostic = vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'unknown-id')!;
        const actions = await eventually('code actions', async () => {
            const found = await vscode.commands.executeCommand<vscodeApi.CodeAction[]>('vscode.executeCodeActionProvider', uri, diagnostic.range);
            return found && found.length > 0 ? found : undefined;
        });
        assert.ok(actions.some((a) => /TD-0103/.test(a.title)), actions.map((a) => a.title).join(' | '));
    });

    test('"Show status" runs from the command palette and reports the lock and coverage', async () => {
        const status = await vscode.commands.executeCommand<{ lock: { task: string } | null; coverage: { chunks: number; covered: number } }>('concord.showStatus');
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        assert.equal(status.lock?.task, 'WBS-012');
        assert.equal(status.coverage.chunks, 345);
        assert.match(api.statusBarText(), /WBS-012/);
        assert.match(api.statusBarText(), /\d+\/345 covered/);
    });

    test('"Regenerate crosswalk" writes docs/blueprints/crosswalk.json', async () => {
        const target = path.join(folder().fsPath, 'docs', 'blueprints', 'crosswalk.json');
        fs.rmSync(target, { force: true });
        const result = await vscode.commands.executeCommand<{ ok: boolean; message: string }>('concord.regenerateCrosswalk');
        assert.equal(result?.ok, true, JSON.stringify(result));
        assert.ok(fs.existsSync(target));
        JSON.parse(fs.readFileSync(target, 'utf8'));
    });

    test('"Reload workspace" returns the reloaded status', async () => {
        const status = await vscode.commands.executeCommand<{ loaded: boolean }>('concord.reloadWorkspace');
        assert.equal(status?.loaded, true);
    });

    test('a changed setting reaches the server without a window reload', async () => {
        const config = vscode.workspace.getConfiguration('concord');
        await config.update('diagnostics.debounceMs', 320, vscode.ConfigurationTarget.Global);
        try {
            await eventually('the server restarted with debounceMs 320', () => api.initializationOptions()?.debounceMs === 320);
            await api.ready(60_000);
            assert.equal(api.state().kind, 'running');
        } finally {
            await config.update('diagnostics.debounceMs', undefined, vscode.ConfigurationTarget.Global);
        }
        await eventually('the server back at debounceMs 150', () => api.initializationOptions()?.debounceMs === 150);
        await api.ready(60_000);
    });
}

/** Read-only mode: what still works, and what is refused, in an untrusted workspace. */
function registerUntrusted(
    vscode: Vscode,
    test: Register,
    api: () => ConcordApi,
    file: (rel: string) => vscodeApi.Uri,
    folder: () => vscodeApi.Uri,
): void {
    test('the server is started untrusted (read-only mode)', async () => {
        assert.equal(vscode.workspace.isTrusted, false);
        assert.equal(api().initializationOptions()?.trusted, false);
        assert.equal(api().server()?.source, 'bundled');
        const status = await vscode.commands.executeCommand<{ trusted: boolean; lock: { task: string } | null }>('concord.showStatus');
        await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
        assert.equal(status.trusted, false);
        assert.equal(status.lock?.task, 'WBS-012');
        assert.match(api().statusBarText(), /^\$\(shield\) /);
    });

    test('hover and diagnostics work in read-only mode', async () => {
        const uri = file('services/payments/refunds.py');
        const doc = await vscode.workspace.openTextDocument(uri);
        const line = doc.getText().split('\n').findIndex((l) => l.includes('TD-0104'));
        const position = new vscode.Position(line, doc.lineAt(line).text.indexOf('TD-0104') + 3);
        await eventually('a hover on TD-0104', async () => {
            const hovers = await vscode.commands.executeCommand<vscodeApi.Hover[]>('vscode.executeHoverProvider', uri, position);
            return hoverText(hovers ?? []).includes('Refunds and partial refunds') || undefined;
        });
        await eventually('unknown-id TD-0130', () =>
            vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === 'unknown-id' && d.message.includes('TD-0130')),
        );
    });

    test('the commands that write or run are refused, by the extension and by the server', async () => {
        const target = path.join(folder().fsPath, 'docs', 'blueprints', 'crosswalk.json');
        for (const id of ['concord.regenerateCrosswalk', 'concord.dispatchNext', 'concord.reviewLatest', 'concord.applyReview', 'concord.releaseLock', 'concord.sweepLocks']) {
            const result = await vscode.commands.executeCommand(id);
            assert.equal(result, undefined, `${id} must not run in an untrusted workspace`);
        }
        // The server's own command (registered by the language client) is refused by the server.
        let refused = false;
        try {
            const result = await vscode.commands.executeCommand('concord.crosswalk');
            refused = result === undefined || result === null;
        } catch (error) {
            refused = /not trusted/.test(String(error));
        }
        assert.ok(refused, 'the server refuses concord.crosswalk when untrusted');
        assert.ok(!fs.existsSync(target), 'nothing was written');
    });
}
