// A fake of `vscode-languageclient/node`: records how each client was created and what it was
// sent; answers `workspace/executeCommand` through a handler the test sets.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { EventEmitter } from './vscode';

export enum State {
    Stopped = 1,
    Running = 2,
    Starting = 3,
}

export const ExecuteCommandRequest = { type: { method: 'workspace/executeCommand' } };

export type Handler = (command: string, args: unknown[]) => unknown;

export const fake = {
    clients: [] as LanguageClient[],
    /** What `initialize` answers (its capabilities decide which commands are offered). */
    initializeResult: {
        capabilities: { executeCommandProvider: { commands: ['concord.status', 'concord.reload', 'concord.crosswalk'] } },
        serverInfo: { name: 'concord', version: '0.1.0' },
    } as any,
    handler: ((command: string) => {
        if (command === 'concord.status') {
            return { loaded: true, agent: 'AGENT-2', trusted: true, lock: { task: 'WBS-012', scope: ['services/messaging/**'], since: '2026-11-24T09:00:00Z' }, coverage: { covered: 45, chunks: 344 }, gate_failures: 0 };
        }
        return { ok: true, message: `${command} done` };
    }) as Handler,
    startError: undefined as Error | undefined,
    reset(): void {
        this.clients = [];
        this.startError = undefined;
    },
};

export class LanguageClient {
    running = false;
    stopped = false;
    readonly requests: { method: string; params: any; token?: unknown }[] = [];
    readonly notifications: { method: string; params: any }[] = [];
    initializeResult: any;
    private readonly states = new EventEmitter<{ oldState: State; newState: State }>();
    onDidChangeState = this.states.event;

    constructor(
        public readonly id: string,
        public readonly name: string,
        public readonly serverOptions: any,
        public readonly clientOptions: any,
    ) {
        fake.clients.push(this);
    }

    /** The initialization options as the client would send them. */
    initializationOptions(): any {
        const o = this.clientOptions.initializationOptions;
        return typeof o === 'function' ? o() : o;
    }

    async start(): Promise<void> {
        if (fake.startError) throw fake.startError;
        this.initializeResult = JSON.parse(JSON.stringify(fake.initializeResult));
        this.running = true;
        this.states.fire({ oldState: State.Starting, newState: State.Running });
    }

    async stop(): Promise<void> {
        this.running = false;
        this.stopped = true;
        this.states.fire({ oldState: State.Running, newState: State.Stopped });
    }

    async sendRequest(type: { method: string } | string, params?: any, token?: unknown): Promise<unknown> {
        const method = typeof type === 'string' ? type : type.method;
        this.requests.push({ method, params, token });
        if (method === 'workspace/executeCommand') return fake.handler(params.command, params.arguments ?? []);
        return null;
    }

    async sendNotification(type: { method: string } | string, params?: any): Promise<void> {
        this.notifications.push({ method: typeof type === 'string' ? type : type.method, params });
    }
}
