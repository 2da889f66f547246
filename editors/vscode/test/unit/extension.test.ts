// Activation with the stubbed `vscode` and a fake language client: the server is found, started
// with the settings as initialization options, restarted or notified when settings or trust
// change, and the status bar follows.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { ConcordApi, activate, deactivate } from '../../src/extension';
import { fake } from './stubs/languageclient';
import { commands, stub, workspace } from './stubs/vscode';

let dir: string;
let binary: string;
let extensionPath: string;
let api: ConcordApi;
const saved = { ...process.env };

let contexts: { subscriptions: { dispose(): unknown }[] }[] = [];

function context() {
    const c = { subscriptions: [] as { dispose(): unknown }[], extensionPath, extension: { packageJSON: { version: '0.1.0' } } };
    contexts.push(c);
    return c;
}

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

const lastClient = () => fake.clients.at(-1)!;

before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-ext-'));
    binary = path.join(dir, 'bin', 'concord');
    fs.mkdirSync(path.dirname(binary));
    fs.writeFileSync(binary, '#!/bin/sh\n', { mode: 0o755 });
    extensionPath = path.join(dir, 'extension');
    fs.mkdirSync(path.join(extensionPath, 'server'), { recursive: true });
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
    stub.reset();
    fake.reset();
    process.env = { ...saved, CONCORD_SERVER_PATH: binary, PATH: '/nonexistent' };
    stub.settings['concord.statusBar.refreshSeconds'] = 0;
});

afterEach(async () => {
    await deactivate();
    // What VS Code does after deactivate: dispose what the extension registered (timers included).
    for (const c of contexts) for (const d of c.subscriptions) d.dispose();
    contexts = [];
    process.env = { ...saved };
});

describe('activation', () => {
    it('starts `concord lsp` from CONCORD_SERVER_PATH with the settings as initializationOptions', async () => {
        stub.settings['concord.agent.id'] = 'AGENT-2';
        stub.settings['concord.diagnostics.debounceMs'] = 300;
        stub.settings['concord.log.level'] = 'info';
        api = activate(context() as never);
        const status = await api.ready(2000);
        const client = lastClient();
        assert.equal(client.id, 'concord');
        assert.equal(client.serverOptions.command, binary);
        assert.deepEqual(client.serverOptions.args, ['lsp']);
        assert.equal(client.serverOptions.options.cwd, '/tmp/concord-unit-ws');
        assert.equal(client.serverOptions.options.env.CONCORD_LOG, 'info');
        assert.equal(client.serverOptions.options.env.CONCORD_AGENT, 'AGENT-2');
        assert.deepEqual(client.initializationOptions(), { agent: 'AGENT-2', trusted: true, debounceMs: 300, logLevel: 'info' });
        assert.deepEqual(client.clientOptions.documentSelector, [{ scheme: 'file' }]);
        assert.equal(client.clientOptions.outputChannel.name, 'Concord');
        assert.equal(client.clientOptions.traceOutputChannel.name, 'Concord Trace');
        assert.deepEqual(api.server(), { command: binary, source: 'environment' });
        assert.equal(status.coverage?.chunks, 344);
        assert.equal(api.statusBarText(), '$(lock) WBS-012 · services/messaging/** · 45/344 covered (13%)');
        const item = stub.statusItems[0];
        assert.equal(item.command, 'concord.showStatus');
        assert.equal(item.visible, true);
        assert.ok(stub.executed.some((e) => e.command === 'setContext' && e.args[0] === 'concord.trusted' && e.args[1] === true));
    });

    it('uses the bundled binary when nothing overrides it', async () => {
        delete process.env.CONCORD_SERVER_PATH;
        const bundled = path.join(extensionPath, 'server', 'concord');
        fs.writeFileSync(bundled, '#!/bin/sh\n', { mode: 0o644 });
        try {
            api = activate(context() as never);
            await api.ready(2000);
            assert.deepEqual(api.server(), { command: bundled, source: 'bundled' });
            assert.equal(fs.statSync(bundled).mode & 0o111, 0o111, 'the executable bit is restored');
        } finally {
            fs.rmSync(bundled);
        }
    });

    it('shows what to do when no binary can be found, and fails the status bar', async () => {
        delete process.env.CONCORD_SERVER_PATH;
        api = activate(context() as never);
        await until(() => api.state().kind === 'failed', 'the failure');
        assert.equal(fake.clients.length, 0);
        const error = stub.messages.find((m) => m.level === 'error')!;
        assert.match(error.text, /No Concord server binary was found/);
        assert.match(error.text, /concord\.server\.path/);
        assert.deepEqual(error.items, ['Open Settings', 'Show Log']);
        assert.match(api.statusBarText(), /\$\(error\)/);
        await assert.rejects(api.ready(100), /Concord failed/);
    });

    it('reports a server that fails to start', async () => {
        fake.startError = new Error('spawn EACCES');
        api = activate(context() as never);
        await until(() => api.state().kind === 'failed', 'the failure');
        assert.match((api.state() as { message: string }).message, /spawn EACCES/);
    });

    it('restarts the server when a setting it reads at start changes', async () => {
        api = activate(context() as never);
        await api.ready(2000);
        stub.changeSettings({ 'concord.diagnostics.debounceMs': 900 });
        await until(() => fake.clients.length === 2 && lastClient().running, 'the restart');
        assert.equal(fake.clients[0].stopped, true);
        assert.equal(lastClient().initializationOptions().debounceMs, 900);
    });

    it('applies a setting live when the server says it can (no restart)', async () => {
        fake.initializeResult = {
            ...fake.initializeResult,
            capabilities: { ...fake.initializeResult.capabilities, experimental: { concord: { liveSettings: ['debounceMs', 'logLevel', 'agent', 'agentPreset', 'trusted'] } } },
        };
        try {
            api = activate(context() as never);
            await api.ready(2000);
            stub.changeSettings({ 'concord.diagnostics.debounceMs': 50, 'concord.log.level': 'debug' });
            await until(() => lastClient().notifications.length > 0, 'the notification');
            assert.equal(fake.clients.length, 1);
            assert.deepEqual(lastClient().notifications[0], {
                method: 'workspace/didChangeConfiguration',
                params: { settings: { concord: { trusted: true, debounceMs: 50, logLevel: 'debug' } } },
            });
        } finally {
            delete fake.initializeResult.capabilities.experimental;
        }
    });

    it('neither restarts nor notifies for the trace level (the client applies it)', async () => {
        api = activate(context() as never);
        await api.ready(2000);
        stub.changeSettings({ 'concord.trace.server': 'verbose', 'editor.fontSize': 3 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(fake.clients.length, 1);
        assert.equal(lastClient().notifications.length, 0);
    });

    it('starts read-only in an untrusted workspace and restarts trusted when trust is granted', async () => {
        stub.reset();
        stub.settings['concord.statusBar.refreshSeconds'] = 0;
        workspace.isTrusted = false;
        stub.settings['concord.server.path'] = '/repo/says/run/this';
        api = activate(context() as never);
        await api.ready(2000);
        assert.equal(lastClient().initializationOptions().trusted, false);
        assert.deepEqual(api.server(), { command: binary, source: 'environment' });
        assert.match(api.statusBarText(), /^\$\(shield\) /);
        assert.ok(stub.executed.some((e) => e.command === 'setContext' && e.args[0] === 'concord.trusted' && e.args[1] === false));

        workspace.isTrusted = true;
        stub.trustEmitter.fire();
        await until(() => fake.clients.length === 2 && lastClient().running, 'the trusted restart');
        assert.equal(lastClient().initializationOptions().trusted, true);
        await api.ready(2000);
        assert.doesNotMatch(api.statusBarText(), /shield/);
    });

    it('ignores a workspace-level server path in an untrusted workspace', async () => {
        delete process.env.CONCORD_SERVER_PATH;
        workspace.isTrusted = false;
        stub.settings['concord.server.path'] = binary; // the workspace's value
        api = activate(context() as never);
        await until(() => api.state().kind === 'failed', 'the failure');
        assert.equal(fake.clients.length, 0);
        stub.reset();
    });

    it('registers every command and answers the palette through the running client', async () => {
        api = activate(context() as never);
        await api.ready(2000);
        const result = await commands.executeCommand('concord.regenerateCrosswalk');
        assert.deepEqual(result, { ok: true, message: 'concord.crosswalk done' });
        const request = lastClient().requests.find((r) => r.params?.command === 'concord.crosswalk')!;
        assert.deepEqual(request.params, { command: 'concord.crosswalk', arguments: [] });
        assert.ok(request.token, 'the request carries the progress notification’s cancellation token');
        // A command the server does not list yet is not sent.
        await commands.executeCommand('concord.dispatchNext');
        assert.equal(lastClient().requests.filter((r) => r.params?.command === 'concord.dispatch').length, 0);
        assert.match(stub.messages.at(-1)!.text, /does not offer concord\.dispatch/);
    });

    it('stops the server on deactivate', async () => {
        api = activate(context() as never);
        await api.ready(2000);
        await deactivate();
        assert.equal(lastClient().stopped, true);
    });
});
