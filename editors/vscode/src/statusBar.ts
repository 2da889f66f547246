// The status bar item: the active agent's lock or "no lock", and the coverage figure.
import * as vscode from 'vscode';
import { ClientState, statusBarView } from './status';

export class StatusBar implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private text = '';

    constructor() {
        this.item = vscode.window.createStatusBarItem('concord.status', vscode.StatusBarAlignment.Left, 10);
        this.item.name = 'Concord';
        this.item.command = 'concord.showStatus';
        this.update({ kind: 'starting' });
        this.item.show();
    }

    update(state: ClientState): void {
        const view = statusBarView(state);
        this.text = view.text;
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.backgroundColor =
            view.tone === 'error'
                ? new vscode.ThemeColor('statusBarItem.errorBackground')
                : view.tone === 'warning'
                  ? new vscode.ThemeColor('statusBarItem.warningBackground')
                  : undefined;
    }

    /** What the item shows now (for tests). */
    currentText(): string {
        return this.text;
    }

    dispose(): void {
        this.item.dispose();
    }
}
