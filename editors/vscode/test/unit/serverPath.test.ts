import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ENV_VAR, ResolveFailure, ResolvedServer, bundledPath, defaultIsExecutable, defaultRepairBundled, isFailure, resolveServer } from '../../src/serverPath';

const EXT = '/opt/ext/concord-0.1.0';

function resolve(options: { env?: Record<string, string>; setting?: string; executables?: string[]; folder?: string; platform?: NodeJS.Platform }) {
    const executables = new Set(options.executables ?? []);
    const repaired: string[] = [];
    const result = resolveServer({
        env: options.env ?? {},
        setting: options.setting ?? '',
        extensionPath: EXT,
        workspaceFolder: options.folder ?? '/work/ws',
        platform: options.platform ?? 'linux',
        isExecutable: (f) => executables.has(f),
        repairBundled: (f) => repaired.push(f),
    });
    return { result, repaired };
}

function ok(result: ResolvedServer | ResolveFailure): ResolvedServer {
    assert.ok(!isFailure(result), `expected a server, got ${JSON.stringify(result)}`);
    return result;
}

describe('server resolution', () => {
    it('takes CONCORD_SERVER_PATH first, over the setting and the bundled binary', () => {
        const { result } = resolve({
            env: { [ENV_VAR]: '/custom/concord' },
            setting: '/set/concord',
            executables: ['/custom/concord', '/set/concord', `${EXT}/server/concord`],
        });
        assert.deepEqual(ok(result), { command: '/custom/concord', source: 'environment' });
    });

    it('reports a CONCORD_SERVER_PATH that is not executable instead of silently using another binary', () => {
        const { result } = resolve({ env: { [ENV_VAR]: '/missing/concord' }, executables: [`${EXT}/server/concord`] });
        assert.ok(isFailure(result));
        assert.match(result.error, /CONCORD_SERVER_PATH is set to \/missing\/concord/);
        assert.match(result.remedy, /unset CONCORD_SERVER_PATH/);
    });

    it('ignores an empty or blank CONCORD_SERVER_PATH', () => {
        const { result } = resolve({ env: { [ENV_VAR]: '  ' }, executables: [`${EXT}/server/concord`] });
        assert.equal(ok(result).source, 'bundled');
    });

    it('takes the concord.server.path setting second; relative to the workspace folder; ~ expanded', () => {
        assert.deepEqual(ok(resolve({ setting: '/set/concord', executables: ['/set/concord', `${EXT}/server/concord`] }).result), {
            command: '/set/concord',
            source: 'setting',
        });
        assert.equal(ok(resolve({ setting: 'target/release/concord', executables: ['/work/ws/target/release/concord'] }).result).command, '/work/ws/target/release/concord');
        assert.equal(ok(resolve({ env: { HOME: '/home/me' }, setting: '~/bin/concord', executables: ['/home/me/bin/concord'] }).result).command, '/home/me/bin/concord');
    });

    it('reports a setting that points nowhere', () => {
        const { result } = resolve({ setting: '/nope/concord', executables: [`${EXT}/server/concord`] });
        assert.ok(isFailure(result));
        assert.match(result.error, /"concord\.server\.path" is \/nope\/concord/);
    });

    it('uses the binary bundled in the extension third, repairing its executable bit first', () => {
        const { result, repaired } = resolve({ executables: [`${EXT}/server/concord`, '/usr/bin/concord'], env: { PATH: '/usr/bin' } });
        assert.deepEqual(ok(result), { command: `${EXT}/server/concord`, source: 'bundled' });
        assert.deepEqual(repaired, [`${EXT}/server/concord`]);
        assert.equal(bundledPath(EXT, 'win32'), path.join(EXT, 'server', 'concord.exe'));
    });

    it('falls back to concord on PATH', () => {
        const { result } = resolve({ env: { PATH: '/a:/b:/c' }, executables: ['/b/concord'] });
        assert.deepEqual(ok(result), { command: '/b/concord', source: 'path' });
    });

    it('says what to do when there is no binary at all', () => {
        const { result } = resolve({ env: { PATH: '/a' } });
        assert.ok(isFailure(result));
        assert.match(result.error, /No Concord server binary was found/);
        assert.match(result.remedy, /concord\.server\.path/);
        assert.match(result.remedy, /CONCORD_SERVER_PATH/);
        assert.match(result.remedy, /cargo build --release/);
    });

    it('checks real files: a plain file is not executable; the repair makes the bundled one so', () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'concord-unit-'));
        try {
            const file = path.join(dir, 'concord');
            fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
            assert.equal(defaultIsExecutable(file), false);
            assert.equal(defaultIsExecutable(dir), false);
            assert.equal(defaultIsExecutable(path.join(dir, 'absent')), false);
            defaultRepairBundled(file);
            assert.equal(defaultIsExecutable(file), true);
            defaultRepairBundled(path.join(dir, 'absent'));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
