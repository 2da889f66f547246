// Concord for VS Code (and, built with another define, for Cursor): starts `concord lsp`, puts
// the server's commands in the palette and shows the state of the work in the status bar.
import * as vscode from 'vscode';
import { ConcordClient } from './client';
import { Commands } from './commands';
import { FLAVOR, Flavor } from './flavor';
import type { ResolvedServer } from './serverPath';
import type { InitializationOptions } from './settings';
import type { ClientState, ServerStatus } from './status';
import { StatusBar } from './statusBar';

/** What `activate` returns: used by the tests that run inside a real extension host. */
export interface ConcordApi {
    readonly flavor: Flavor;
    /** Resolves once the server runs and has loaded the workspace (rejects after `timeoutMs`). */
    ready(timeoutMs?: number): Promise<ServerStatus>;
    state(): ClientState;
    status(): ServerStatus | undefined;
    statusBarText(): string;
    server(): ResolvedServer | undefined;
    initializationOptions(): InitializationOptions | undefined;
    serverCommands(): readonly string[] | undefined;
}

let concord: ConcordClient | undefined;

export function activate(context: vscode.ExtensionContext): ConcordApi {
    const output = vscode.window.createOutputChannel('Concord', { log: true });
    const trace = vscode.window.createOutputChannel('Concord Trace', { log: true });
    context.subscriptions.push(output, trace);
    output.info(`Concord extension ${context.extension?.packageJSON?.version ?? ''} (${FLAVOR}) activating`);

    const client = new ConcordClient(context, output, trace);
    concord = client;
    const statusBar = new StatusBar();
    context.subscriptions.push(statusBar);
    client.onState((state) => statusBar.update(state));

    context.subscriptions.push(...new Commands(client).register());

    // Trust: the workspace is read-only until trusted; the server must learn when that changes.
    void vscode.commands.executeCommand('setContext', 'concord.trusted', vscode.workspace.isTrusted);
    context.subscriptions.push(
        vscode.workspace.onDidGrantWorkspaceTrust(() => {
            void vscode.commands.executeCommand('setContext', 'concord.trusted', true);
            output.info('the workspace is now trusted');
            void client.trustGranted();
        }),
        vscode.workspace.onDidChangeConfiguration((event) => void client.configurationChanged(event)),
    );

    // The status bar follows the ops files (locks, queue, crosswalk), and a slow poll.
    let pending: NodeJS.Timeout | undefined;
    const soon = () => {
        if (pending) clearTimeout(pending);
        pending = setTimeout(() => void client.refreshStatus(), 1000);
    };
    const watcher = vscode.workspace.createFileSystemWatcher('**/{ops/**,docs/blueprints/crosswalk.json,concord.toml}');
    context.subscriptions.push(watcher, watcher.onDidChange(soon), watcher.onDidCreate(soon), watcher.onDidDelete(soon));
    let poll: NodeJS.Timeout | undefined;
    const schedulePoll = () => {
        if (poll) clearTimeout(poll);
        const state = client.state();
        // While the first scan runs, ask every second; then at the configured pace.
        const loading = state.kind === 'running' && !state.status?.loaded;
        const seconds = loading ? 1 : client.settings().statusRefreshSeconds;
        if (seconds > 0) {
            poll = setTimeout(async () => {
                await client.refreshStatus();
                schedulePoll();
            }, seconds * 1000);
        }
    };
    client.onState(() => {
        if (!poll) schedulePoll();
    });
    context.subscriptions.push({
        dispose: () => {
            if (pending) clearTimeout(pending);
            if (poll) clearTimeout(poll);
            poll = undefined;
        },
    });

    void client.start().then(schedulePoll);

    return {
        flavor: FLAVOR,
        ready: (timeoutMs = 60_000) => waitReady(client, timeoutMs),
        state: () => client.state(),
        status: () => client.status(),
        statusBarText: () => statusBar.currentText(),
        server: () => client.server(),
        initializationOptions: () => client.initializationOptions(),
        serverCommands: () => client.serverCommands(),
    };
}

async function waitReady(client: ConcordClient, timeoutMs: number): Promise<ServerStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const state = client.state();
        if (state.kind === 'failed') throw new Error(`Concord failed: ${state.message}`);
        if (state.kind === 'running') {
            const status = state.status?.loaded ? state.status : await client.refreshStatus();
            if (status?.loaded) return status;
        }
        if (Date.now() > deadline) throw new Error(`Concord was not ready after ${timeoutMs} ms (state: ${state.kind})`);
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}

export async function deactivate(): Promise<void> {
    await concord?.dispose();
    concord = undefined;
}
