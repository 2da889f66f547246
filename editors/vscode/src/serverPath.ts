// Where the `concord` binary comes from, in order: the CONCORD_SERVER_PATH environment variable,
// the `concord.server.path` setting, the binary bundled in the extension (`server/concord`), and
// `concord` on PATH. No `vscode` import: everything it needs is passed in.
import * as fs from 'fs';
import * as path from 'path';

export type ServerSource = 'environment' | 'setting' | 'bundled' | 'path';

export interface ResolvedServer {
    command: string;
    source: ServerSource;
}

export interface ResolveFailure {
    error: string;
    /** What the person can do about it, in one sentence. */
    remedy: string;
}

export interface ResolveInputs {
    env: Record<string, string | undefined>;
    /** The `concord.server.path` setting ('' when unset). */
    setting: string;
    /** The extension's install folder. */
    extensionPath: string;
    /** The first workspace folder, for a relative setting. */
    workspaceFolder?: string;
    platform?: NodeJS.Platform;
    /** Injected for tests: is this an executable file? */
    isExecutable?: (file: string) => boolean;
    /** Injected for tests: restore the executable bit of the bundled binary (a VSIX may drop it). */
    repairBundled?: (file: string) => void;
}

export const ENV_VAR = 'CONCORD_SERVER_PATH';

export function binaryName(platform: NodeJS.Platform = process.platform): string {
    return platform === 'win32' ? 'concord.exe' : 'concord';
}

export function bundledPath(extensionPath: string, platform: NodeJS.Platform = process.platform): string {
    return path.join(extensionPath, 'server', binaryName(platform));
}

export function defaultIsExecutable(file: string): boolean {
    try {
        const stat = fs.statSync(file);
        if (!stat.isFile()) return false;
        return process.platform === 'win32' || (stat.mode & 0o111) !== 0;
    } catch {
        return false;
    }
}

/** A VSIX does not always keep the executable bit: restore it on our own bundled binary only. */
export function defaultRepairBundled(file: string): void {
    try {
        const stat = fs.statSync(file);
        if (stat.isFile() && process.platform !== 'win32' && (stat.mode & 0o111) === 0) {
            fs.chmodSync(file, stat.mode | 0o755);
        }
    } catch {
        // absent: nothing to repair
    }
}

function expandHome(p: string, env: Record<string, string | undefined>): string {
    const home = env.HOME ?? env.USERPROFILE;
    if (home && (p === '~' || p.startsWith('~/'))) return path.join(home, p.slice(1));
    return p;
}

export function resolveServer(inputs: ResolveInputs): ResolvedServer | ResolveFailure {
    const platform = inputs.platform ?? process.platform;
    const isExecutable = inputs.isExecutable ?? defaultIsExecutable;
    const remedy =
        `Install the Concord extension for your platform (it bundles the server), or build it with ` +
        `\`cargo build --release\` and set "concord.server.path" (or the ${ENV_VAR} environment variable) to the binary.`;

    const fromEnv = inputs.env[ENV_VAR]?.trim();
    if (fromEnv) {
        const file = path.resolve(expandHome(fromEnv, inputs.env));
        if (isExecutable(file)) return { command: file, source: 'environment' };
        return { error: `${ENV_VAR} is set to ${fromEnv}, which is not an executable file.`, remedy: `Fix or unset ${ENV_VAR}.` };
    }

    const setting = inputs.setting.trim();
    if (setting) {
        let file = expandHome(setting, inputs.env);
        if (!path.isAbsolute(file) && inputs.workspaceFolder) file = path.join(inputs.workspaceFolder, file);
        file = path.resolve(file);
        if (isExecutable(file)) return { command: file, source: 'setting' };
        return {
            error: `The setting "concord.server.path" is ${setting}, which is not an executable file.`,
            remedy: 'Correct the setting, or clear it to use the bundled server.',
        };
    }

    const bundled = bundledPath(inputs.extensionPath, platform);
    (inputs.repairBundled ?? defaultRepairBundled)(bundled);
    if (isExecutable(bundled)) return { command: bundled, source: 'bundled' };

    const name = binaryName(platform);
    const separator = platform === 'win32' ? ';' : ':';
    for (const dir of (inputs.env.PATH ?? inputs.env.Path ?? '').split(separator)) {
        if (!dir) continue;
        const file = path.join(dir, name);
        if (isExecutable(file)) return { command: file, source: 'path' };
    }

    return { error: 'No Concord server binary was found: this copy of the extension does not bundle one, and none is configured.', remedy };
}

export function isFailure(r: ResolvedServer | ResolveFailure): r is ResolveFailure {
    return (r as ResolveFailure).error !== undefined;
}
