// The manifest agrees with the code: every palette command is contributed and wired, none
// collides with a server command, the settings exist, and the version pins hold.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, serverCommandsUsed, trustedServerCommands } from '../../src/commandTable';
import { KEYS } from '../../src/settings';

const ROOT = path.join(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));

describe('package.json', () => {
    it('contributes exactly the commands of the table, titled and categorised', () => {
        const contributed = manifest.contributes.commands.map((c: { command: string; title: string; category: string }) => [c.command, c.title, c.category]);
        assert.deepEqual(contributed, COMMANDS.map((c) => [c.id, c.title, 'Concord']));
    });

    it('hides and disables the trusted commands in an untrusted workspace', () => {
        const palette = new Map(manifest.contributes.menus.commandPalette.map((m: { command: string; when: string }) => [m.command, m.when]));
        for (const c of COMMANDS) {
            const contributed = manifest.contributes.commands.find((x: { command: string }) => x.command === c.id);
            if (c.trusted) {
                assert.equal(palette.get(c.id), 'isWorkspaceTrusted', `${c.id} must be hidden when untrusted`);
                assert.equal(contributed.enablement, 'isWorkspaceTrusted', `${c.id} must be disabled when untrusted`);
            } else {
                assert.equal(palette.get(c.id), undefined, `${c.id} stays available in read-only mode`);
            }
        }
    });

    it('never reuses a server command ID for a palette command (the language client registers those)', () => {
        const serverSide = new Set(serverCommandsUsed());
        for (const c of COMMANDS) assert.ok(!serverSide.has(c.id), `${c.id} collides with a server command`);
    });

    it('sends every server command the product documents', () => {
        assert.deepEqual(serverCommandsUsed(), [
            'concord.answer',
            'concord.apply',
            'concord.approve',
            'concord.autopilot',
            'concord.crosswalk',
            'concord.dispatch',
            'concord.health',
            'concord.lock.acquire',
            'concord.lock.release',
            'concord.lock.sweep',
            'concord.questions',
            'concord.queue',
            'concord.reload',
            'concord.review',
            'concord.status',
        ]);
        assert.deepEqual(trustedServerCommands(), [
            'concord.answer',
            'concord.apply',
            'concord.approve',
            'concord.autopilot',
            'concord.crosswalk',
            'concord.dispatch',
            'concord.lock.acquire',
            'concord.lock.release',
            'concord.lock.sweep',
            'concord.review',
        ]);
    });

    it('declares every setting the code reads', () => {
        const properties = Object.keys(manifest.contributes.configuration.properties).sort();
        assert.deepEqual(properties, Object.values(KEYS).map((k) => `concord.${k}`).sort());
    });

    it('declares limited support for untrusted workspaces and restricts the server path', () => {
        const untrusted = manifest.capabilities.untrustedWorkspaces;
        assert.equal(untrusted.supported, 'limited');
        assert.deepEqual(untrusted.restrictedConfigurations, ['concord.server.path']);
    });

    it('keeps engines.vscode at ^1.91.0 with vscode-languageclient 10 or 11 and matching @types/vscode', () => {
        assert.equal(manifest.engines.vscode, '^1.91.0');
        assert.match(manifest.dependencies['vscode-languageclient'], /^(\^|~)?1[01]\./);
        assert.equal(manifest.devDependencies['@types/vscode'], '1.91.0');
        assert.match(manifest.devDependencies['@vscode/vsce'], /^3\.9\./);
        const installed = lock.packages['node_modules/vscode-languageclient'];
        assert.ok(installed, 'vscode-languageclient is in package-lock.json');
        assert.equal(installed.engines?.vscode ?? '^1.91.0', '^1.91.0');
    });

    it('is CommonJS (a "type": "module" package breaks the extension host test)', () => {
        assert.equal(manifest.type, undefined);
        assert.equal(manifest.main, './dist/extension.js');
    });

    it('has a Cursor manifest generated from this one, differing only where it should', () => {
        const script = path.join(ROOT, 'scripts', 'cursor-manifest.js');
        execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
        const cursor = JSON.parse(fs.readFileSync(path.join(ROOT, '..', 'cursor', 'package.json'), 'utf8'));
        assert.equal(cursor.contributes.configuration.properties['concord.agent.preset'].default, 'cursor-agent');
        assert.equal(manifest.contributes.configuration.properties['concord.agent.preset'].default, '');
        assert.deepEqual(cursor.contributes.commands, manifest.contributes.commands);
        assert.equal(cursor.engines.vscode, '^1.91.0');
        assert.equal(cursor.version, manifest.version);
        assert.notEqual(cursor.name, manifest.name);
    });
});
