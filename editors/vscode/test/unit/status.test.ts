import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coverageText, scopeText, statusBarView, statusDetails } from '../../src/status';

const STATUS = {
    loaded: true,
    agent: 'AGENT-2',
    trusted: true,
    lock: { task: 'WBS-012', scope: ['services/messaging/**', 'web/src/inbox/**'], since: '2026-11-24T09:00:00Z' },
    coverage: { covered: 45, chunks: 344 },
    gate_failures: 0,
};

describe('status bar', () => {
    it('shows the lock (task, scope) and the coverage figure', () => {
        const view = statusBarView({ kind: 'running', status: STATUS, trusted: true });
        assert.equal(view.text, '$(lock) WBS-012 · services/messaging/**, … · 45/344 covered (13%)');
        assert.match(view.tooltip, /Lock: WBS-012 on services\/messaging\/\*\*, web\/src\/inbox\/\*\* since 2026-11-24T09:00:00Z/);
        assert.match(view.tooltip, /Agent: AGENT-2/);
        assert.equal(view.tone, undefined);
    });

    it('says "no lock" when the agent holds none, and marks read-only mode', () => {
        const view = statusBarView({ kind: 'running', status: { ...STATUS, lock: null }, trusted: false });
        assert.equal(view.text, '$(shield) $(unlock) no lock · 45/344 covered (13%)');
        assert.match(view.tooltip, /read-only/);
    });

    it('shows loading, failure and gate failures', () => {
        assert.match(statusBarView({ kind: 'running', status: { loaded: false }, trusted: true }).text, /sync~spin/);
        assert.match(statusBarView({ kind: 'starting' }).text, /sync~spin/);
        const failed = statusBarView({ kind: 'failed', message: 'no binary' });
        assert.equal(failed.tone, 'error');
        assert.match(failed.tooltip, /no binary/);
        assert.equal(statusBarView({ kind: 'running', status: { ...STATUS, gate_failures: 2 }, trusted: true }).tone, 'warning');
    });

    it('formats coverage and scopes', () => {
        assert.equal(coverageText({ loaded: true, coverage: { covered: 0, chunks: 0 } }), '0/0 covered (0%)');
        assert.equal(coverageText({ loaded: true }), undefined);
        assert.equal(scopeText([]), 'no scope');
        assert.equal(scopeText(null), 'no scope');
        assert.equal(scopeText(['a/**'], 10), 'a/**');
        assert.equal(scopeText(['abcdefghijk'], 5), 'abcd…');
    });

    it('lists the details "Show status" presents', () => {
        const rows = statusDetails(STATUS, { server: '/x/concord (bundled)', version: '0.1.0', trusted: true });
        assert.deepEqual(rows.map(([label]) => label), ['Agent', 'Lock', 'Coverage', 'Gate failures', 'Workspace', 'Server']);
        assert.equal(rows[2][1], '45/344 covered (13%)');
        assert.equal(statusDetails({ ...STATUS, lock: null }, { trusted: false })[1][1], 'no lock');
    });
});
