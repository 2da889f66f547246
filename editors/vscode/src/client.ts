// The language client's lifecycle: find the binary, start `concord lsp` with the settings as
// initialization options, apply setting and trust changes, and answer the palette commands.
import * as readline from 'readline';
import type { Readable } from 'stream';
import * as vscode from 'vscode';
import {
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import type { Gateway, Log } from './gateway';
import { ResolvedServer, isFailure, resolveServer } from './serverPath';
import {
    InitializationOptions,
    KEYS,
    SECTION,
    Settings,
    WATCHED_KEYS,
    changeEffect,
    initializationOptions,
    liveSettingsOf,
    readSettings,
    serverEnvironment,
} from './settings';
import type { ClientState, ServerStatus } from './status';

/** env_logger's line prefix: `[INFO  concord::lsp::server] message`, with or without a timestamp. */
const LOG_LINE = /^\[(?:\S+\s+)?(ERROR|WARN|INFO|DEBUG|TRACE)\s+[^\]]*\]\s?(.*)$/;

/** Route each line of the server's stderr to the output channel at its own level. */
export function pipeServerLog(input: Readable, channel: vscode.LogOutputChannel): void {
    readline
        .createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 })
        .on('line', (line: string) => {
            const m = LOG_LINE.exec(line);
            const text = m ? m[2] : line;
            switch (m?.[1]) {
                case 'ERROR':
                    channel.error(text);
                    break;
                case 'WARN':
                    channel.warn(text);
                    break;
                case 'DEBUG':
                    channel.debug(text);
                    break;
                case 'TRACE':
                    channel.trace(text);
                    break;
                default:
                    channel.info(text);
            }
        });
}

export class ConcordClient implements Gateway {
    private client: LanguageClient | undefined;
    private resolved: ResolvedServer | undefined;
    private started: InitializationOptions | undefined;
    private current: ClientState = { kind: 'stopped' };
    private lastStatus: ServerStatus | undefined;
    private transition: Promise<void> = Promise.resolve();
    private readonly stateListeners: Array<(state: ClientState) => void> = [];
    readonly log: Log;

    constructor(
        private readonly context: vscode.ExtensionContext,
        private readonly output: vscode.LogOutputChannel,
        private readonly traceChannel: vscode.LogOutputChannel,
        private readonly env: Record<string, string | undefined> = process.env,
    ) {
        this.log = {
            info: (m) => output.info(m),
            warn: (m) => output.warn(m),
            error: (m) => output.error(m),
        };
    }

    get trusted(): boolean {
        return vscode.workspace.isTrusted;
    }

    settings(): Settings {
        return readSettings(vscode.workspace.getConfiguration(SECTION), this.trusted);
    }

    state(): ClientState {
        return this.current;
    }

    status(): ServerStatus | undefined {
        return this.lastStatus;
    }

    server(): ResolvedServer | undefined {
        return this.resolved;
    }

    initializationOptions(): InitializationOptions | undefined {
        return this.started;
    }

    onState(listener: (state: ClientState) => void): void {
        this.stateListeners.push(listener);
    }

    private setState(state: ClientState): void {
        this.current = state;
        for (const listener of this.stateListeners) listener(state);
    }

    /** Lifecycle changes run one after the other. */
    private serialized(work: () => Promise<void>): Promise<void> {
        this.transition = this.transition.then(work, work);
        return this.transition;
    }

    start(): Promise<void> {
        return this.serialized(() => this.doStart());
    }

    stop(): Promise<void> {
        return this.serialized(() => this.doStop());
    }

    restart(reason: string): Promise<void> {
        return this.serialized(async () => {
            this.output.info(`restarting the server: ${reason}`);
            await this.doStop();
            await this.doStart();
        });
    }

    private async doStart(): Promise<void> {
        this.setState({ kind: 'starting' });
        this.lastStatus = undefined;
        const settings = this.settings();
        const folder = vscode.workspace.workspaceFolders?.[0];
        const found = resolveServer({
            env: this.env,
            setting: settings.serverPath,
            extensionPath: this.context.extensionPath,
            workspaceFolder: folder?.uri.fsPath,
        });
        if (isFailure(found)) {
            this.resolved = undefined;
            this.output.error(`${found.error} ${found.remedy}`);
            this.setState({ kind: 'failed', message: found.error });
            const open = 'Open Settings';
            const log = 'Show Log';
            void vscode.window.showErrorMessage(`Concord: ${found.error} ${found.remedy}`, open, log).then((choice) => {
                if (choice === open) void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${KEYS.serverPath}`);
                if (choice === log) this.output.show(true);
            });
            return;
        }
        this.resolved = found;
        const options = initializationOptions(settings, this.trusted);
        this.started = options;
        this.output.info(
            `starting ${found.command} lsp (from ${found.source}); workspace ${this.trusted ? 'trusted' : 'NOT trusted: read-only'}; ` +
                `initializationOptions ${JSON.stringify(options)}`,
        );
        const serverOptions: ServerOptions = {
            command: found.command,
            args: ['lsp'],
            options: { cwd: folder?.uri.fsPath, env: serverEnvironment(settings, this.env) },
        };
        const clientOptions: LanguageClientOptions & { stdioOptions?: unknown } = {
            documentSelector: [{ scheme: 'file' }],
            outputChannel: this.output,
            traceOutputChannel: this.traceChannel,
            initializationOptions: () => initializationOptions(this.settings(), this.trusted),
            markdown: { isTrusted: false, supportHtml: false },
            stdioOptions: {
                stdout: (input: Readable, channel: vscode.LogOutputChannel) => pipeServerLog(input, channel),
                stderr: (input: Readable, channel: vscode.LogOutputChannel) => pipeServerLog(input, channel),
            },
        };
        const client = new LanguageClient('concord', 'Concord', serverOptions, clientOptions);
        this.client = client;
        client.onDidChangeState((event) => {
            if (this.client !== client) return;
            if (event.newState === State.Stopped && this.current.kind === 'running') {
                this.setState({ kind: 'failed', message: 'the server stopped; see the "Concord" output' });
            } else if (event.newState === State.Running && this.current.kind === 'failed') {
                // The language client restarted a crashed server by itself.
                this.setState({ kind: 'running', trusted: this.trusted });
                void this.refreshStatus();
            }
        });
        try {
            await client.start();
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            this.output.error(`the server did not start: ${message}`);
            this.setState({ kind: 'failed', message: `the server did not start: ${message}` });
            return;
        }
        this.setState({ kind: 'running', trusted: this.trusted });
        const info = client.initializeResult?.serverInfo;
        this.output.info(
            `server ${info?.name ?? 'concord'} ${info?.version ?? ''} running; it offers ${this.serverCommands()?.join(', ') || 'no commands'}`,
        );
        void this.refreshStatus();
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.stop(2000);
            } catch (error) {
                this.output.warn(`stopping the server: ${error instanceof Error ? error.message : String(error)}`);
            }
        }
        this.setState({ kind: 'stopped' });
    }

    serverCommands(): readonly string[] | undefined {
        const client = this.client;
        if (!client || this.current.kind !== 'running') return undefined;
        return client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    }

    describeServer(): { server?: string; version?: string } {
        return {
            server: this.resolved ? `${this.resolved.command} (${this.resolved.source})` : undefined,
            version: this.client?.initializeResult?.serverInfo?.version,
        };
    }

    async execute(command: string, argument?: object, token?: vscode.CancellationToken): Promise<unknown> {
        const client = this.client;
        if (!client) throw new Error('the language server is not running');
        const params = { command, arguments: withFolder(command, argument) };
        return token ? client.sendRequest(ExecuteCommandRequest.type, params, token) : client.sendRequest(ExecuteCommandRequest.type, params);
    }

    async refreshStatus(status?: ServerStatus): Promise<ServerStatus | undefined> {
        if (this.current.kind !== 'running') return undefined;
        let fresh = status;
        if (!fresh) {
            const offered = this.serverCommands();
            if (!offered?.includes('concord.status')) return undefined;
            try {
                fresh = (await this.execute('concord.status')) as ServerStatus;
            } catch (error) {
                this.output.warn(`concord.status: ${error instanceof Error ? error.message : String(error)}`);
                return undefined;
            }
        }
        if (this.current.kind !== 'running') return undefined;
        this.lastStatus = fresh;
        this.setState({ kind: 'running', status: fresh, trusted: this.trusted });
        return fresh;
    }

    /** Settings changed: apply client-side ones at once, tell the server or restart it. */
    async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
        const changed = WATCHED_KEYS.filter((key) => event.affectsConfiguration(`${SECTION}.${key}`));
        if (changed.length === 0) return;
        const live = liveSettingsOf(this.client?.initializeResult);
        const effect = changeEffect(changed, live);
        this.output.info(`settings changed (${changed.join(', ')}): ${effect}`);
        if (effect === 'restart' || (effect === 'notify' && !this.client)) {
            await this.restart(`settings changed: ${changed.join(', ')}`);
        } else if (effect === 'notify' && this.client) {
            const options = initializationOptions(this.settings(), this.trusted);
            this.started = options;
            await this.client.sendNotification('workspace/didChangeConfiguration', { settings: { [SECTION]: options } });
        }
        // The trace level is applied by the language client itself when its setting changes.
    }

    /** The person trusted the workspace: the server must learn it (restart, or notify if it can). */
    async trustGranted(): Promise<void> {
        const live = liveSettingsOf(this.client?.initializeResult);
        if (this.client && live.includes('trusted')) {
            const options = initializationOptions(this.settings(), true);
            this.started = options;
            await this.client.sendNotification('workspace/didChangeConfiguration', { settings: { [SECTION]: options } });
            this.setState({ kind: 'running', status: this.lastStatus, trusted: true });
            void this.refreshStatus();
        } else {
            await this.restart('the workspace is now trusted');
        }
    }

    showOutput(): void {
        this.output.show(true);
    }

    async dispose(): Promise<void> {
        await this.stop();
    }
}

/**
 * A command's arguments. In a window with several workspace folders the server serves each as
 * its own workspace and asks which one a command is for: the folder of the active editor, when
 * there is one (else the server's answer names the folders). `concord.status` covers them all.
 */
export function withFolder(command: string, argument: object | undefined, folders = vscode.workspace.workspaceFolders, active = vscode.window.activeTextEditor?.document.uri): object[] {
    const several = (folders?.length ?? 0) > 1;
    if (!several || command === 'concord.status' || (argument && 'folder' in argument)) {
        return argument === undefined ? [] : [argument];
    }
    const folder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    if (!folder) return argument === undefined ? [] : [argument];
    return [{ ...(argument ?? {}), folder: folder.uri.toString() }];
}
