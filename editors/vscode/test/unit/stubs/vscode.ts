// A stub of the `vscode` API: just what the extension uses, recording every call so the tests
// can script answers (quick picks, input boxes, message buttons) and assert on what happened.
/* eslint-disable @typescript-eslint/no-explicit-any */

type Listener<T> = (value: T) => unknown;

export class Disposable {
    constructor(private readonly fn: () => void = () => undefined) {}
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => items.forEach((i) => i.dispose()));
    }
    dispose(): void {
        this.fn();
    }
}

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    event = (listener: Listener<T>): Disposable => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== listener);
        });
    };
    fire(value: T): void {
        for (const l of [...this.listeners]) l(value);
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };
    cancel(): void {
        if (!this.token.isCancellationRequested) {
            this.token.isCancellationRequested = true;
            this.emitter.fire();
        }
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export class ThemeColor {
    constructor(public readonly id: string) {}
}

export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}
export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}
export enum QuickPickItemKind {
    Separator = -1,
    Default = 0,
}
export enum LogLevel {
    Off = 0,
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warning = 4,
    Error = 5,
}

export const version = '1.91.0';

// ----- recording state, reset by `stub.reset()` -----

export interface Message {
    level: 'info' | 'warning' | 'error';
    text: string;
    items: unknown[];
}

class StubState {
    messages: Message[] = [];
    /** Answers for the next messages with buttons, in order (undefined = dismissed). */
    messageAnswers: (string | undefined)[] = [];
    quickPicks: { items: any[]; options: any }[] = [];
    /** Answers for the next quick picks: a label to pick, or undefined to dismiss. */
    quickPickAnswers: (string | undefined)[] = [];
    inputBoxes: any[] = [];
    inputBoxAnswers: (string | undefined)[] = [];
    progress: { title?: string; cancellable?: boolean }[] = [];
    /** When set, the next progress' token is cancelled right after the task starts. */
    cancelNextProgress = false;
    executed: { command: string; args: unknown[] }[] = [];
    registered = new Map<string, (...args: unknown[]) => unknown>();
    settings: Record<string, unknown> = {};
    userSettings: Record<string, unknown> = {};
    outputLines: { channel: string; level: string; text: string }[] = [];
    statusItems: StatusBarItem[] = [];
    configurationEmitter = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
    trustEmitter = new EventEmitter<void>();

    reset(): void {
        const fresh = new StubState();
        Object.assign(this, fresh);
        workspace.isTrusted = true;
        workspace.workspaceFolders = [{ uri: Uri.file('/tmp/concord-unit-ws'), name: 'ws', index: 0 }];
    }

    /** Change settings and fire the configuration event for the changed keys. */
    changeSettings(changes: Record<string, unknown>): void {
        Object.assign(this.settings, changes);
        const keys = Object.keys(changes);
        this.configurationEmitter.fire({
            affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)),
        });
    }
}

export const stub = new StubState();

// ----- API -----

export class Uri {
    private constructor(
        public readonly scheme: string,
        public readonly fsPath: string,
    ) {}
    static file(p: string): Uri {
        return new Uri('file', p);
    }
    toString(): string {
        return `${this.scheme}://${this.fsPath}`;
    }
}

export class StatusBarItem {
    text = '';
    tooltip: unknown = '';
    command: unknown;
    name = '';
    backgroundColor: ThemeColor | undefined;
    visible = false;
    constructor(
        public readonly id: string,
        public readonly alignment: StatusBarAlignment,
        public readonly priority: number,
    ) {}
    show(): void {
        this.visible = true;
    }
    hide(): void {
        this.visible = false;
    }
    dispose(): void {
        this.visible = false;
    }
}

function outputChannel(name: string) {
    const line = (level: string) => (text: string) => stub.outputLines.push({ channel: name, level, text });
    return {
        name,
        logLevel: LogLevel.Info,
        onDidChangeLogLevel: new EventEmitter<LogLevel>().event,
        append: line('append'),
        appendLine: line('info'),
        replace: line('replace'),
        clear: () => undefined,
        show: () => stub.executed.push({ command: '<show output>', args: [name] }),
        hide: () => undefined,
        dispose: () => undefined,
        trace: line('trace'),
        debug: line('debug'),
        info: line('info'),
        warn: line('warn'),
        error: (text: string | Error) => line('error')(String(text)),
    };
}

function message(level: Message['level']) {
    return (text: string, ...rest: unknown[]): Promise<string | undefined> => {
        const items = rest.filter((r) => typeof r === 'string');
        stub.messages.push({ level, text, items: rest });
        if (items.length === 0) return Promise.resolve(undefined);
        return Promise.resolve(stub.messageAnswers.shift());
    };
}

export const window = {
    createOutputChannel: (name: string) => outputChannel(name),
    createStatusBarItem: (id: string, alignment: StatusBarAlignment, priority: number) => {
        const item = new StatusBarItem(id, alignment, priority);
        stub.statusItems.push(item);
        return item;
    },
    showInformationMessage: message('info'),
    showWarningMessage: message('warning'),
    showErrorMessage: message('error'),
    showQuickPick: (items: any[], options: any): Promise<any> => {
        stub.quickPicks.push({ items, options });
        const answer = stub.quickPickAnswers.shift();
        return Promise.resolve(answer === undefined ? undefined : items.find((i) => i.label === answer));
    },
    showInputBox: (options: any): Promise<string | undefined> => {
        stub.inputBoxes.push(options);
        return Promise.resolve(stub.inputBoxAnswers.shift());
    },
    withProgress: async <T>(options: any, task: (progress: any, token: any) => Promise<T>): Promise<T> => {
        stub.progress.push({ title: options.title, cancellable: options.cancellable });
        const source = new CancellationTokenSource();
        const running = task({ report: () => undefined }, source.token);
        if (stub.cancelNextProgress) {
            stub.cancelNextProgress = false;
            setTimeout(() => source.cancel(), 5);
        }
        return running;
    },
};

export const commands = {
    registerCommand: (id: string, handler: (...args: unknown[]) => unknown): Disposable => {
        if (stub.registered.has(id)) throw new Error(`command '${id}' already exists`);
        stub.registered.set(id, handler);
        return new Disposable(() => stub.registered.delete(id));
    },
    executeCommand: async (command: string, ...args: unknown[]): Promise<unknown> => {
        stub.executed.push({ command, args });
        const handler = stub.registered.get(command);
        return handler ? handler(...args) : undefined;
    },
};

function lookup(key: string): unknown {
    if (key in stub.settings) return stub.settings[key];
    if (key in stub.userSettings) return stub.userSettings[key];
    return undefined;
}

export const workspace = {
    isTrusted: true,
    workspaceFolders: [{ uri: Uri.file('/tmp/concord-unit-ws'), name: 'ws', index: 0 }] as any[] | undefined,
    getWorkspaceFolder: (uri: Uri) =>
        (workspace.workspaceFolders ?? [])
            .filter((f: { uri: Uri }) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(`${f.uri.fsPath}/`))
            .sort((a: { uri: Uri }, b: { uri: Uri }) => b.uri.fsPath.length - a.uri.fsPath.length)[0],
    getConfiguration: (section: string) => ({
        get: <T>(key: string, defaultValue: T): T => {
            const value = lookup(`${section}.${key}`);
            return value === undefined ? defaultValue : (value as T);
        },
        inspect: <T>(key: string) => ({
            key: `${section}.${key}`,
            globalValue: stub.userSettings[`${section}.${key}`] as T | undefined,
            workspaceValue: stub.settings[`${section}.${key}`] as T | undefined,
        }),
    }),
    onDidChangeConfiguration: (listener: Listener<{ affectsConfiguration(s: string): boolean }>) =>
        stub.configurationEmitter.event(listener),
    onDidGrantWorkspaceTrust: (listener: Listener<void>) => stub.trustEmitter.event(listener),
    createFileSystemWatcher: () => {
        const never = () => new Disposable();
        return { onDidChange: never, onDidCreate: never, onDidDelete: never, dispose: () => undefined };
    },
};
