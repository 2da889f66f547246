// Settings, and what the server is told about them. No `vscode` import: the configuration is
// read through a small interface so the mapping is testable on its own.
import { defaultAgentPreset } from './flavor';

export const SECTION = 'concord';

export type TraceLevel = 'off' | 'messages' | 'verbose';
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type DiagnosticsScope = '' | 'open' | 'workspace';

export interface Settings {
    /** `concord.server.path`: '' when unset (in an untrusted workspace, the user's value only). */
    serverPath: string;
    /** `concord.agent.id`: the agent identity the server acts as ('' = CONCORD_AGENT or none). */
    agentId: string;
    /** `concord.agent.preset`: which agent CLI dispatch starts ('' = as concord.toml says). */
    agentPreset: string;
    /** `concord.trace.server`: protocol tracing into the "Concord Trace" channel. */
    traceServer: TraceLevel;
    /** `concord.diagnostics.debounceMs`: the wait after an edit before diagnostics are recomputed. */
    debounceMs: number;
    /** `concord.diagnostics.scope`: which files that are not open get diagnostics ('' = as concord.toml says). */
    diagnosticsScope: DiagnosticsScope;
    /** `concord.log.level`: the server's log level (CONCORD_LOG), shown in the "Concord" channel. */
    logLevel: LogLevel;
    /** `concord.statusBar.refreshSeconds`: how often the status bar asks for the status (0 = only on changes). */
    statusRefreshSeconds: number;
}

/** Setting keys under `concord.`, and the initialization option each one becomes. */
export const KEYS = {
    serverPath: 'server.path',
    agentId: 'agent.id',
    agentPreset: 'agent.preset',
    traceServer: 'trace.server',
    debounceMs: 'diagnostics.debounceMs',
    diagnosticsScope: 'diagnostics.scope',
    logLevel: 'log.level',
    statusRefreshSeconds: 'statusBar.refreshSeconds',
} as const;

/** For each setting, the `initializationOptions` key that carries it to the server. */
export const OPTION_OF: Record<string, string | undefined> = {
    [KEYS.agentId]: 'agent',
    [KEYS.agentPreset]: 'agentPreset',
    [KEYS.debounceMs]: 'debounceMs',
    [KEYS.diagnosticsScope]: 'diagnosticsScope',
    [KEYS.logLevel]: 'logLevel',
};

export const DEFAULT_DEBOUNCE_MS = 150;
export const MAX_DEBOUNCE_MS = 5000;
const TRACE_LEVELS: readonly TraceLevel[] = ['off', 'messages', 'verbose'];
const LOG_LEVELS: readonly LogLevel[] = ['off', 'error', 'warn', 'info', 'debug', 'trace'];
const SCOPES: readonly DiagnosticsScope[] = ['', 'open', 'workspace'];

/** The part of `vscode.WorkspaceConfiguration` this needs. */
export interface ConfigReader {
    get<T>(key: string, defaultValue: T): T;
    inspect<T>(key: string): { globalValue?: T } | undefined;
}

function str(value: unknown): string {
    return typeof value === 'string' ? value.trim() : '';
}

export function readSettings(config: ConfigReader, trusted: boolean): Settings {
    // In an untrusted workspace a repository could name its own binary in .vscode/settings.json:
    // only the user's own setting counts there.
    const serverPath = trusted
        ? str(config.get<string>(KEYS.serverPath, ''))
        : str(config.inspect<string>(KEYS.serverPath)?.globalValue);
    const trace = config.get<string>(KEYS.traceServer, 'off') as TraceLevel;
    const log = config.get<string>(KEYS.logLevel, 'warn') as LogLevel;
    const debounce = Number(config.get<number>(KEYS.debounceMs, DEFAULT_DEBOUNCE_MS));
    const refresh = Number(config.get<number>(KEYS.statusRefreshSeconds, 30));
    const scope = str(config.get<string>(KEYS.diagnosticsScope, '')) as DiagnosticsScope;
    return {
        serverPath,
        agentId: str(config.get<string>(KEYS.agentId, '')),
        agentPreset: str(config.get<string>(KEYS.agentPreset, defaultAgentPreset())),
        traceServer: TRACE_LEVELS.includes(trace) ? trace : 'off',
        debounceMs: Number.isFinite(debounce) ? Math.min(MAX_DEBOUNCE_MS, Math.max(0, Math.round(debounce))) : DEFAULT_DEBOUNCE_MS,
        diagnosticsScope: SCOPES.includes(scope) ? scope : '',
        logLevel: LOG_LEVELS.includes(log) ? log : 'warn',
        statusRefreshSeconds: Number.isFinite(refresh) ? Math.max(0, Math.round(refresh)) : 30,
    };
}

export interface InitializationOptions {
    agent?: string;
    agentPreset?: string;
    trusted: boolean;
    debounceMs: number;
    logLevel: LogLevel;
    diagnosticsScope?: 'open' | 'workspace';
}

/** What the server is started with (`initialize` → `initializationOptions`). */
export function initializationOptions(settings: Settings, trusted: boolean): InitializationOptions {
    const options: InitializationOptions = {
        trusted,
        debounceMs: settings.debounceMs,
        logLevel: settings.logLevel,
    };
    if (settings.agentId) options.agent = settings.agentId;
    if (settings.agentPreset) options.agentPreset = settings.agentPreset;
    if (settings.diagnosticsScope) options.diagnosticsScope = settings.diagnosticsScope;
    return options;
}

/** The server process's environment: the editor's, with the log level set. */
export function serverEnvironment(
    settings: Settings,
    base: Record<string, string | undefined>,
): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...base, CONCORD_LOG: settings.logLevel };
    // A stale identity from the editor's own environment must not override the setting.
    if (settings.agentId) env.CONCORD_AGENT = settings.agentId;
    return env;
}

/**
 * The initialization options the server says it applies live, when told through
 * `workspace/didChangeConfiguration` (`capabilities.experimental.concord.liveSettings`).
 */
export function liveSettingsOf(initializeResult: unknown): string[] {
    const experimental = (initializeResult as { capabilities?: { experimental?: unknown } } | undefined)?.capabilities
        ?.experimental as { concord?: { liveSettings?: unknown } } | undefined;
    const live = experimental?.concord?.liveSettings;
    return Array.isArray(live) ? live.filter((x): x is string => typeof x === 'string') : [];
}

export type ChangeEffect =
    /** Nothing the server or client uses changed. */
    | 'none'
    /** Only client-side behaviour changed (trace, status bar): applied at once. */
    | 'client'
    /** The server applies every changed option live: send `workspace/didChangeConfiguration`. */
    | 'notify'
    /** Something the server reads only at start changed: restart it (no window reload). */
    | 'restart';

/** What to do when these settings (keys under `concord.`) changed. */
export function changeEffect(changedKeys: readonly string[], liveOptions: readonly string[]): ChangeEffect {
    let effect: ChangeEffect = 'none';
    for (const key of changedKeys) {
        if (key === KEYS.traceServer || key === KEYS.statusRefreshSeconds) {
            if (effect === 'none') effect = 'client';
            continue;
        }
        if (key === KEYS.serverPath) return 'restart';
        const option = OPTION_OF[key];
        if (!option) continue;
        if (!liveOptions.includes(option)) return 'restart';
        effect = 'notify';
    }
    return effect;
}

/** Every key `changeEffect` knows, for the configuration listener. */
export const WATCHED_KEYS: readonly string[] = Object.values(KEYS);
