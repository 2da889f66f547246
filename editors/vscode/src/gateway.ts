// What the palette commands need from the running client; implemented by `ConcordClient`,
// and by a fake in the unit tests.
import type { CancellationToken } from 'vscode';
import type { ServerStatus } from './status';

export interface Log {
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
}

export interface Gateway {
    /** Whether the workspace is trusted (and the server was told so). */
    readonly trusted: boolean;
    /** The server commands the running server offers; undefined while it is not running. */
    serverCommands(): readonly string[] | undefined;
    /** `workspace/executeCommand` with at most one argument, an object. */
    execute(command: string, argument?: object, token?: CancellationToken): Promise<unknown>;
    restart(reason: string): Promise<void>;
    showOutput(): void;
    /** Ask the server for the status (or take this one) and update the status bar. */
    refreshStatus(status?: ServerStatus): Promise<ServerStatus | undefined>;
    /** The binary in use and its version, for "Show status". */
    describeServer(): { server?: string; version?: string };
    readonly log: Log;
}
