// The palette commands: each checks trust and what the server offers, runs the server command
// under a cancellable progress notification, and reports.
import * as vscode from 'vscode';
import { COMMANDS, CommandSpec, commandSpec } from './commandTable';
import type { Gateway } from './gateway';
import {
    ActionResult,
    OwnerQuestion,
    QueueItem,
    ServerStatus,
    coverageText,
    healthRows,
    isActionResult,
    isHealthReport,
    levelWord,
    statusDetails,
} from './status';

/** LSP's RequestCancelled, and the code a server uses for a request it gave up on. */
const REQUEST_CANCELLED = -32800;
const SERVER_CANCELLED = -32802;

class Cancelled extends Error {
    constructor() {
        super('cancelled');
    }
}

function isCancellation(error: unknown): boolean {
    if (error instanceof Cancelled) return true;
    const code = (error as { code?: unknown } | undefined)?.code;
    return code === REQUEST_CANCELLED || code === SERVER_CANCELLED;
}

function messageOf(error: unknown): string {
    if (error instanceof Error) return error.message;
    if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
        return (error as { message: string }).message;
    }
    return String(error);
}

/** Resolves with `work`, or rejects with `Cancelled` as soon as the token fires. */
function cancellable<T>(work: Promise<T>, token: vscode.CancellationToken): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        if (token.isCancellationRequested) {
            reject(new Cancelled());
            return;
        }
        const listener = token.onCancellationRequested(() => reject(new Cancelled()));
        work.then(
            (value) => {
                listener.dispose();
                resolve(value);
            },
            (error) => {
                listener.dispose();
                reject(error);
            },
        );
    });
}

export class Commands {
    constructor(private readonly gateway: Gateway) {}

    /** Register every command of the table; returns their disposables. */
    register(): vscode.Disposable[] {
        const handlers: Record<string, (...args: unknown[]) => Promise<unknown>> = {
            'concord.showStatus': () => this.showStatus(),
            'concord.showHealth': () => this.showHealth(),
            'concord.reloadWorkspace': () => this.reload(),
            'concord.regenerateCrosswalk': () => this.simple('concord.regenerateCrosswalk'),
            'concord.dispatchNext': () => this.simple('concord.dispatchNext'),
            'concord.dispatchItem': (id?: unknown) => this.dispatchItem(typeof id === 'string' ? id : undefined),
            'concord.runAutopilot': () => this.runAutopilot(),
            'concord.reviewLatest': () => this.simple('concord.reviewLatest'),
            'concord.applyReview': () => this.simple('concord.applyReview'),
            'concord.approveItem': (id?: unknown) => this.approve(typeof id === 'string' ? id : undefined),
            'concord.answerQuestion': (id?: unknown, option?: unknown) =>
                this.answerQuestion(typeof id === 'string' ? id : undefined, typeof option === 'string' ? option : undefined),
            'concord.acquireLock': (task?: unknown, scope?: unknown) =>
                this.acquireLock(typeof task === 'string' ? task : undefined, Array.isArray(scope) ? scope.map(String) : undefined),
            'concord.releaseLock': () => this.simple('concord.releaseLock'),
            'concord.sweepLocks': () => this.simple('concord.sweepLocks'),
            'concord.restartServer': async () => {
                await this.gateway.restart('requested from the palette');
                return true;
            },
            'concord.showOutput': async () => {
                this.gateway.showOutput();
                return true;
            },
        };
        const missing = COMMANDS.filter((c) => !handlers[c.id]).map((c) => c.id);
        if (missing.length > 0) throw new Error(`commands without a handler: ${missing.join(', ')}`);
        return COMMANDS.map((c) => vscode.commands.registerCommand(c.id, handlers[c.id]));
    }

    /** Trust and server support checks; a message and false when the command cannot run. */
    private async allowed(spec: CommandSpec, server: string): Promise<boolean> {
        if (spec.trusted && !this.gateway.trusted) {
            const manage = 'Manage Workspace Trust';
            void vscode.window
                .showWarningMessage(
                    `Concord: "${spec.title}" writes files or runs commands, so it is disabled while this workspace is not trusted (read-only mode).`,
                    manage,
                )
                .then((choice) => {
                    if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
                });
            return false;
        }
        const offered = this.gateway.serverCommands();
        if (!offered) {
            const restart = 'Restart server';
            const log = 'Show server log';
            void vscode.window
                .showErrorMessage('Concord: the language server is not running.', restart, log)
                .then((choice) => {
                    if (choice === restart) void this.gateway.restart('requested after a failed command');
                    if (choice === log) this.gateway.showOutput();
                });
            return false;
        }
        if (!offered.includes(server)) {
            const { version } = this.gateway.describeServer();
            void vscode.window.showErrorMessage(
                `Concord: this server${version ? ` (concord ${version})` : ''} does not offer ${server}, which "${spec.title}" needs. Update the concord binary (or the extension, which bundles one).`,
            );
            return false;
        }
        return true;
    }

    /** Run a server command for `spec`, with a cancellable progress notification. */
    async run(spec: CommandSpec, server: string, argument?: object): Promise<unknown> {
        if (!(await this.allowed(spec, server))) return undefined;
        const send = (token?: vscode.CancellationToken) => this.gateway.execute(server, argument, token);
        try {
            const result = spec.progress
                ? await vscode.window.withProgress(
                      { location: vscode.ProgressLocation.Notification, title: `Concord: ${spec.progress}`, cancellable: true },
                      (_progress, token) => cancellable(send(token), token),
                  )
                : await send();
            this.gateway.log.info(`${server}${argument ? ` ${JSON.stringify(argument)}` : ''} → ${JSON.stringify(result)}`);
            return result;
        } catch (error) {
            if (isCancellation(error)) {
                this.gateway.log.info(`${server}: cancelled`);
                void vscode.window.showInformationMessage(`Concord: "${spec.title}" was cancelled.`);
                return undefined;
            }
            const message = messageOf(error);
            this.gateway.log.error(`${server} failed: ${message}`);
            const log = 'Show server log';
            void vscode.window.showErrorMessage(`Concord: "${spec.title}" failed: ${message}`, log).then((choice) => {
                if (choice === log) this.gateway.showOutput();
            });
            return undefined;
        } finally {
            if (server !== 'concord.status' && server !== 'concord.queue') void this.gateway.refreshStatus();
        }
    }

    /** A command that sends its server command with no argument and reports the result. */
    private async simple(id: string, argument?: object): Promise<unknown> {
        const spec = commandSpec(id);
        const result = await this.run(spec, spec.server!, argument);
        this.report(spec, result);
        return result;
    }

    /** The server shows each action's message itself; a failed action also gets a way to the log. */
    private report(spec: CommandSpec, result: unknown): void {
        if (isActionResult(result) && !result.ok) {
            this.gateway.log.warn(`${spec.title}: ${result.message ?? 'refused'}`);
        }
    }

    async showStatus(): Promise<ServerStatus | undefined> {
        const spec = commandSpec('concord.showStatus');
        const status = (await this.run(spec, 'concord.status')) as ServerStatus | undefined;
        if (!status) return undefined;
        await this.gateway.refreshStatus(status);
        const server = this.gateway.describeServer();
        const rows = statusDetails(status, { ...server, trusted: this.gateway.trusted });
        for (const [label, detail] of rows) this.gateway.log.info(`status: ${label}: ${detail}`);
        type Item = vscode.QuickPickItem & { command?: string };
        const items: Item[] = rows.map(([label, detail]) => ({ label, description: detail }));
        items.push({ label: 'Actions', kind: vscode.QuickPickItemKind.Separator });
        // Only actions this workspace allows and this server offers.
        const offered = this.gateway.serverCommands() ?? [];
        const can = (id: string) => {
            const c = commandSpec(id);
            return (!c.trusted || this.gateway.trusted) && [c.server, ...(c.uses ?? [])].every((s) => !s || offered.includes(s));
        };
        if (can('concord.reloadWorkspace')) items.push({ label: '$(refresh) Reload workspace', command: 'concord.reloadWorkspace' });
        if (status.lock && can('concord.releaseLock')) items.push({ label: '$(unlock) Release my lock', command: 'concord.releaseLock' });
        if (!status.lock && can('concord.acquireLock')) items.push({ label: '$(lock) Acquire a lock…', command: 'concord.acquireLock' });
        if (can('concord.dispatchNext')) items.push({ label: '$(run) Dispatch next work item', command: 'concord.dispatchNext' });
        items.push({ label: '$(output) Show server log', command: 'concord.showOutput' });
        items.push({ label: '$(debug-restart) Restart server', command: 'concord.restartServer' });
        // Not awaited: the command returns the status while the picker stays open.
        void vscode.window
            .showQuickPick(items, { title: `Concord status: ${coverageText(status) ?? 'loading'}`, placeHolder: 'Concord status' })
            .then((picked) => {
                if (picked?.command) void vscode.commands.executeCommand(picked.command);
            });
        return status;
    }

    /** Show the autopilot's plan (a dry run), and run the loop only when the owner confirms it. */
    async runAutopilot(): Promise<unknown> {
        const spec = commandSpec('concord.runAutopilot');
        if (!(await this.allowed(spec, spec.server!))) return undefined;
        let plan: unknown;
        try {
            plan = await this.gateway.execute(spec.server!, { dryRun: true });
        } catch (error) {
            void vscode.window.showErrorMessage(`Concord: cannot plan the autopilot: ${messageOf(error)}`);
            return undefined;
        }
        if (!isActionResult(plan) || !plan.ok) {
            const why = isActionResult(plan) ? plan.message : undefined;
            void vscode.window.showErrorMessage(`Concord: cannot plan the autopilot${why ? `: ${why}` : '.'}`);
            return undefined;
        }
        const start = 'Run';
        const answer = await vscode.window.showWarningMessage(
            'Run the autopilot? Each item is dispatched to an agent in its own branch and worktree, reviewed and applied; it stops at the first failure.',
            { modal: true, detail: plan.message ?? '' },
            start,
        );
        if (answer !== start) return undefined;
        const result = await this.run(spec, spec.server!, {});
        this.report(spec, result);
        return result;
    }

    /** The agent loop's health: its level and summary as a message, every reason in a list. */
    async showHealth(): Promise<unknown> {
        const spec = commandSpec('concord.showHealth');
        const health = await this.run(spec, spec.server!);
        if (health === undefined) return undefined;
        if (!isHealthReport(health)) {
            void vscode.window.showErrorMessage('Concord: the server answered concord.health with something that is not a health report.');
            return undefined;
        }
        const message = `Concord health: ${levelWord(health.level)}. ${health.summary}`;
        const show =
            health.level === 'red'
                ? vscode.window.showErrorMessage
                : health.level === 'yellow'
                  ? vscode.window.showWarningMessage
                  : vscode.window.showInformationMessage;
        void show(message);
        const items: vscode.QuickPickItem[] = healthRows(health).map((row) =>
            row.separator
                ? { label: row.label, kind: vscode.QuickPickItemKind.Separator }
                : { label: row.label, description: row.description, detail: row.detail },
        );
        // Not awaited: the command returns the report while the list stays open.
        void vscode.window.showQuickPick(items, { title: message, placeHolder: 'Why, and what to do next', matchOnDescription: true });
        return health;
    }

    async reload(): Promise<ServerStatus | undefined> {
        const spec = commandSpec('concord.reloadWorkspace');
        const status = (await this.run(spec, 'concord.reload')) as ServerStatus | undefined;
        if (status) {
            await this.gateway.refreshStatus(status);
            void vscode.window.showInformationMessage(`Concord: workspace reloaded · ${coverageText(status) ?? 'coverage unknown'}`);
        }
        return status;
    }

    /** `concord.queue`, for a picker; undefined (with a message shown) when it cannot be had. */
    async queue(spec: CommandSpec): Promise<QueueItem[] | undefined> {
        if (!(await this.allowed(spec, 'concord.queue'))) return undefined;
        try {
            const items = await this.gateway.execute('concord.queue');
            return Array.isArray(items) ? (items as QueueItem[]) : [];
        } catch (error) {
            void vscode.window.showErrorMessage(`Concord: cannot list the work items: ${messageOf(error)}`);
            return undefined;
        }
    }

    private async pickItem(
        spec: CommandSpec,
        filter: (item: QueueItem) => boolean,
        placeHolder: string,
        empty: string,
    ): Promise<string | undefined> {
        const queue = await this.queue(spec);
        if (!queue) return undefined;
        const items = queue.filter(filter);
        if (items.length === 0) {
            void vscode.window.showInformationMessage(`Concord: ${empty}`);
            return undefined;
        }
        const ordered = [...items].sort((a, b) => Number(b.eligible ?? false) - Number(a.eligible ?? false));
        const picked = await vscode.window.showQuickPick(
            ordered.map((item) => ({
                label: item.id,
                description: item.title ?? '',
                detail: [
                    item.status,
                    item.risk ? `risk ${item.risk}` : undefined,
                    item.eligible === false ? `not eligible${item.why ? `: ${item.why}` : ''}` : item.eligible ? 'eligible' : undefined,
                ]
                    .filter(Boolean)
                    .join(' · '),
            })),
            { title: `Concord: ${spec.title.replace(/…$/, '')}`, placeHolder, matchOnDescription: true, matchOnDetail: true },
        );
        return picked?.label;
    }

    async dispatchItem(id?: string): Promise<unknown> {
        const spec = commandSpec('concord.dispatchItem');
        const chosen =
            id ??
            (await this.pickItem(
                spec,
                (item) => item.status !== 'done',
                'The work item to dispatch (eligible ones first)',
                'there is no work item left to dispatch.',
            ));
        if (!chosen) return undefined;
        const result = await this.run(spec, spec.server!, { id: chosen });
        this.report(spec, result);
        return result;
    }

    async approve(id?: string): Promise<unknown> {
        const spec = commandSpec('concord.approveItem');
        const chosen =
            id ??
            (await this.pickItem(
                spec,
                (item) => item.status === 'review',
                'The work item to approve (those waiting in review)',
                'no work item is waiting for approval.',
            ));
        if (!chosen) return undefined;
        if (id === undefined) {
            const approve = 'Approve';
            const answer = await vscode.window.showWarningMessage(
                `Approve ${chosen}? Its review decision is applied and the item can be marked done.`,
                { modal: true },
                approve,
            );
            if (answer !== approve) return undefined;
        }
        const result = await this.run(spec, spec.server!, { id: chosen });
        this.report(spec, result);
        return result;
    }

    /** Pick a pending owner question, then one of its options (the recommended one first). */
    async answerQuestion(id?: string, option?: string): Promise<unknown> {
        const spec = commandSpec('concord.answerQuestion');
        if (option === undefined || id === undefined) {
            if (!(await this.allowed(spec, 'concord.questions'))) return undefined;
            let pending: OwnerQuestion[];
            try {
                const listed = await this.gateway.execute('concord.questions');
                pending = Array.isArray(listed) ? (listed as OwnerQuestion[]) : [];
            } catch (error) {
                void vscode.window.showErrorMessage(`Concord: cannot list the owner's questions: ${messageOf(error)}`);
                return undefined;
            }
            if (id === undefined) {
                if (pending.length === 0) {
                    void vscode.window.showInformationMessage('Concord: no owner question is pending.');
                    return undefined;
                }
                const picked = await vscode.window.showQuickPick(
                    pending.map((q) => ({
                        label: q.id,
                        description: q.question,
                        detail: [...(q.wbs ?? []), ...(q.chunks ?? [])].join(', ') || undefined,
                    })),
                    { title: 'Concord: Answer an owner question', placeHolder: 'The question to answer (oldest first)', matchOnDescription: true },
                );
                if (!picked) return undefined;
                id = picked.label;
            }
            const question = pending.find((q) => q.id === id);
            if (!question) {
                void vscode.window.showErrorMessage(`Concord: ${id} is not a pending owner question.`);
                return undefined;
            }
            const recommendation = question.recommendation;
            const options = [...question.options].sort(
                (a, b) => Number(b.key === recommendation?.option) - Number(a.key === recommendation?.option),
            );
            const picked = await vscode.window.showQuickPick(
                options.map((o) => ({
                    label: o.key,
                    description: o.text,
                    detail: o.key === recommendation?.option ? `Recommended: ${recommendation.reason}` : undefined,
                })),
                { title: `Concord: ${question.id}`, placeHolder: question.question },
            );
            if (!picked) return undefined;
            option = picked.label;
        }
        const result = await this.run(spec, spec.server!, { id, option });
        this.report(spec, result);
        return result;
    }

    async acquireLock(task?: string, scope?: string[]): Promise<unknown> {
        const spec = commandSpec('concord.acquireLock');
        let chosenScope = scope;
        const chosen =
            task ??
            (await this.pickItem(
                spec,
                (item) => item.status !== 'done',
                'The work item to lock',
                'there is no open work item to lock.',
            ));
        if (!chosen) return undefined;
        if (task === undefined) {
            const typed = await vscode.window.showInputBox({
                title: `Concord: lock ${chosen}`,
                prompt: 'Scope globs, separated by commas. Leave empty to lock the work item’s own scope_paths.',
                placeHolder: 'services/payments/**, tests/python/test_payments*.py',
            });
            if (typed === undefined) return undefined;
            const globs = typed.split(',').map((g) => g.trim()).filter(Boolean);
            chosenScope = globs.length > 0 ? globs : undefined;
        }
        const argument: { task: string; scope?: string[] } = { task: chosen };
        if (chosenScope && chosenScope.length > 0) argument.scope = chosenScope;
        const result = await this.run(spec, spec.server!, argument);
        this.report(spec, result);
        return result as ActionResult | undefined;
    }
}
