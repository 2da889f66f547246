// The palette commands and the server commands they map to. No `vscode` import here: the
// protocol contract test reads this table from Node directly.

export interface CommandSpec {
    /** The palette command's ID; never equal to a server command (the client registers those). */
    id: string;
    /** The title after "Concord: ". */
    title: string;
    /** The server command this sends (`workspace/executeCommand`), if any. */
    server?: string;
    /** Further server commands it calls (e.g. `concord.queue` to fill a picker). */
    uses?: string[];
    /** Writes files or runs commands: refused in an untrusted workspace. */
    trusted: boolean;
    /** Shown in a progress notification while it runs (cancellable). */
    progress?: string;
}

export const COMMANDS: readonly CommandSpec[] = [
    { id: 'concord.showStatus', title: 'Show status', server: 'concord.status', trusted: false },
    { id: 'concord.showHealth', title: 'Show health', server: 'concord.health', trusted: false, progress: "Checking the agent loop's health" },
    { id: 'concord.reloadWorkspace', title: 'Reload workspace', server: 'concord.reload', trusted: false, progress: 'Reloading the workspace' },
    { id: 'concord.regenerateCrosswalk', title: 'Regenerate crosswalk', server: 'concord.crosswalk', trusted: true, progress: 'Writing the crosswalk' },
    { id: 'concord.dispatchNext', title: 'Dispatch next work item', server: 'concord.dispatch', trusted: true, progress: 'Dispatching the next eligible work item' },
    { id: 'concord.dispatchItem', title: 'Dispatch a work item…', server: 'concord.dispatch', uses: ['concord.queue'], trusted: true, progress: 'Dispatching' },
    { id: 'concord.runAutopilot', title: 'Run the autopilot…', server: 'concord.autopilot', trusted: true, progress: 'Running the autopilot (dispatch, review, apply, item after item)' },
    { id: 'concord.reviewLatest', title: 'Review latest run', server: 'concord.review', trusted: true, progress: 'Reviewing the latest run' },
    { id: 'concord.applyReview', title: 'Apply latest review', server: 'concord.apply', trusted: true, progress: 'Applying the latest review' },
    { id: 'concord.approveItem', title: 'Approve a work item…', server: 'concord.approve', uses: ['concord.queue'], trusted: true, progress: 'Approving' },
    { id: 'concord.answerQuestion', title: 'Answer an owner question…', server: 'concord.answer', uses: ['concord.questions'], trusted: true, progress: 'Recording the answer' },
    { id: 'concord.acquireLock', title: 'Acquire a lock…', server: 'concord.lock.acquire', uses: ['concord.queue'], trusted: true, progress: 'Acquiring the lock' },
    { id: 'concord.releaseLock', title: 'Release my lock', server: 'concord.lock.release', trusted: true, progress: 'Releasing the lock' },
    { id: 'concord.sweepLocks', title: 'Sweep stale locks', server: 'concord.lock.sweep', trusted: true, progress: 'Sweeping stale locks' },
    { id: 'concord.restartServer', title: 'Restart server', trusted: false },
    { id: 'concord.showOutput', title: 'Show server log', trusted: false },
];

export function commandSpec(id: string): CommandSpec {
    const spec = COMMANDS.find((c) => c.id === id);
    if (!spec) {
        throw new Error(`no such Concord command: ${id}`);
    }
    return spec;
}

/** Every server command the extension sends, sorted. */
export function serverCommandsUsed(): string[] {
    const all = new Set<string>();
    for (const c of COMMANDS) {
        if (c.server) all.add(c.server);
        for (const u of c.uses ?? []) all.add(u);
    }
    return [...all].sort();
}

/** Server commands that need a trusted workspace (the server refuses them otherwise). */
export function trustedServerCommands(): string[] {
    return [...new Set(COMMANDS.filter((c) => c.trusted && c.server).map((c) => c.server!))].sort();
}
