import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAgentPreset } from '../../src/flavor';
import { ConfigReader, KEYS, changeEffect, initializationOptions, liveSettingsOf, readSettings, serverEnvironment } from '../../src/settings';

function reader(workspace: Record<string, unknown>, user: Record<string, unknown> = {}): ConfigReader {
    return {
        get: <T>(key: string, defaultValue: T): T => (key in workspace ? (workspace[key] as T) : key in user ? (user[key] as T) : defaultValue),
        inspect: <T>(key: string) => ({ globalValue: user[key] as T | undefined }),
    };
}

describe('settings', () => {
    it('has the documented defaults', () => {
        assert.deepEqual(readSettings(reader({}), true), {
            serverPath: '',
            agentId: '',
            agentPreset: '',
            traceServer: 'off',
            debounceMs: 150,
            diagnosticsScope: '',
            logLevel: 'warn',
            statusRefreshSeconds: 30,
        });
    });

    it('defaults the agent preset to cursor-agent in the Cursor build only', () => {
        assert.equal(defaultAgentPreset('cursor'), 'cursor-agent');
        assert.equal(defaultAgentPreset('vscode'), '');
    });

    it('clamps and validates values', () => {
        const s = readSettings(reader({ [KEYS.debounceMs]: 99999, [KEYS.logLevel]: 'loud', [KEYS.traceServer]: 'everything', [KEYS.statusRefreshSeconds]: -4 }), true);
        assert.equal(s.debounceMs, 5000);
        assert.equal(s.logLevel, 'warn');
        assert.equal(s.traceServer, 'off');
        assert.equal(s.statusRefreshSeconds, 0);
        assert.equal(readSettings(reader({ [KEYS.debounceMs]: -3 }), true).debounceMs, 0);
        assert.equal(readSettings(reader({ [KEYS.debounceMs]: 'soon' }), true).debounceMs, 150);
        assert.equal(readSettings(reader({ [KEYS.diagnosticsScope]: 'everything' }), true).diagnosticsScope, '');
        const scoped = readSettings(reader({ [KEYS.diagnosticsScope]: 'workspace' }), true);
        assert.equal(initializationOptions(scoped, true).diagnosticsScope, 'workspace');
        assert.equal(initializationOptions(readSettings(reader({}), true), true).diagnosticsScope, undefined);
    });

    it('reads concord.server.path from user settings only in an untrusted workspace', () => {
        const config = reader({ [KEYS.serverPath]: './evil/concord' }, { [KEYS.serverPath]: '/home/me/concord' });
        assert.equal(readSettings(config, true).serverPath, './evil/concord');
        assert.equal(readSettings(config, false).serverPath, '/home/me/concord');
        assert.equal(readSettings(reader({ [KEYS.serverPath]: './evil/concord' }), false).serverPath, '');
    });

    it('maps settings to initializationOptions (agent, agentPreset, trusted, debounceMs, logLevel)', () => {
        const s = readSettings(reader({ [KEYS.agentId]: ' AGENT-2 ', [KEYS.agentPreset]: 'cursor-agent', [KEYS.debounceMs]: 400, [KEYS.logLevel]: 'debug' }), true);
        assert.deepEqual(initializationOptions(s, true), { agent: 'AGENT-2', agentPreset: 'cursor-agent', trusted: true, debounceMs: 400, logLevel: 'debug' });
        assert.deepEqual(initializationOptions(readSettings(reader({}), false), false), { trusted: false, debounceMs: 150, logLevel: 'warn' });
    });

    it('passes the log level (and the agent, when set) in the server environment', () => {
        const s = readSettings(reader({ [KEYS.logLevel]: 'info', [KEYS.agentId]: 'AGENT-7' }), true);
        const env = serverEnvironment(s, { PATH: '/bin', CONCORD_AGENT: 'OLD' });
        assert.deepEqual(env, { PATH: '/bin', CONCORD_AGENT: 'AGENT-7', CONCORD_LOG: 'info' });
        assert.equal(serverEnvironment(readSettings(reader({}), true), { CONCORD_AGENT: 'KEPT' }).CONCORD_AGENT, 'KEPT');
    });

    it('decides between nothing, client-side, notify and restart', () => {
        assert.equal(changeEffect([], []), 'none');
        assert.equal(changeEffect([KEYS.traceServer], []), 'client');
        assert.equal(changeEffect([KEYS.statusRefreshSeconds], []), 'client');
        assert.equal(changeEffect([KEYS.debounceMs], []), 'restart');
        assert.equal(changeEffect([KEYS.agentId, KEYS.traceServer], []), 'restart');
        assert.equal(changeEffect([KEYS.debounceMs], ['debounceMs']), 'notify');
        assert.equal(changeEffect([KEYS.traceServer, KEYS.debounceMs, KEYS.logLevel], ['debounceMs', 'logLevel']), 'notify');
        assert.equal(changeEffect([KEYS.debounceMs, KEYS.agentId], ['debounceMs']), 'restart');
        assert.equal(changeEffect([KEYS.serverPath], ['debounceMs', 'agent', 'agentPreset', 'logLevel']), 'restart');
    });

    it('reads the live settings a server advertises', () => {
        assert.deepEqual(liveSettingsOf(undefined), []);
        assert.deepEqual(liveSettingsOf({ capabilities: {} }), []);
        assert.deepEqual(liveSettingsOf({ capabilities: { experimental: { concord: { liveSettings: ['debounceMs', 7, 'agent'] } } } }), ['debounceMs', 'agent']);
    });
});
