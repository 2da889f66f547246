// The packages: a platform VSIX with the release binary, a no-server VSIX, and the same two
// for Cursor, each with the manifest and the bundle it should have. Run after scripts/package.sh.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readZip } from './zip';

const HERE = path.resolve(__dirname, '..', '..', '..');
const VSIX = path.join(HERE, 'vsix');
const version = JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8')).version;
const TARGET = 'linux-x64';

function manifestOf(entries: ReturnType<typeof readZip>) {
    return JSON.parse(entries.get('extension/package.json')!.read().toString('utf8'));
}

function vsixManifest(entries: ReturnType<typeof readZip>): string {
    return entries.get('extension.vsixmanifest')!.read().toString('utf8');
}

const packages = [
    { file: `concord-${TARGET}-${version}.vsix`, name: 'concord', server: true, preset: '' },
    { file: `concord-${version}.vsix`, name: 'concord', server: false, preset: '' },
    { file: `concord-cursor-${TARGET}-${version}.vsix`, name: 'concord-cursor', server: true, preset: 'cursor-agent' },
    { file: `concord-cursor-${version}.vsix`, name: 'concord-cursor', server: false, preset: 'cursor-agent' },
];

describe('VSIX packages', () => {
    for (const p of packages) {
        it(`${p.file}: ${p.server ? 'bundles the release binary (executable)' : 'has no server'}, manifest and bundle`, () => {
            const file = path.join(VSIX, p.file);
            assert.ok(fs.existsSync(file), `${file} exists (scripts/package.sh)`);
            const entries = readZip(file);
            const names = [...entries.keys()].filter((n) => !n.endsWith('/')).sort();
            const expected = ['[Content_Types].xml', 'extension.vsixmanifest', 'extension/LICENSE.txt', 'extension/changelog.md', 'extension/dist/extension.js', 'extension/package.json', 'extension/readme.md'];
            if (p.server) expected.push('extension/server/concord');
            assert.deepEqual(names, expected.sort());
            const manifest = manifestOf(entries);
            assert.equal(manifest.name, p.name);
            assert.equal(manifest.version, version);
            assert.equal(manifest.engines.vscode, '^1.91.0');
            assert.equal(manifest.main, './dist/extension.js');
            assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
            assert.equal(manifest.contributes.configuration.properties['concord.agent.preset'].default, p.preset);
            const target = /TargetPlatform="([^"]+)"/.exec(vsixManifest(entries))?.[1];
            assert.equal(target, p.server ? TARGET : undefined, 'the platform package is marked for its target, the other is universal');
            if (p.server) {
                const server = entries.get('extension/server/concord')!;
                assert.ok(server.size > 1_000_000, 'a real binary');
                assert.equal(server.read().subarray(0, 4).toString('latin1'), '\x7fELF');
                if (server.mode !== undefined) assert.equal(server.mode & 0o111, 0o111, 'executable');
            }
            const bundle = entries.get('extension/dist/extension.js')!.read().toString('utf8');
            assert.ok(!/require\(["']vscode-languageclient/.test(bundle), 'vscode-languageclient is bundled, not required');
            assert.match(bundle, /require\(["']vscode["']\)/);
        });
    }

    it('the Cursor bundle is built with the cursor flavour, the VS Code one with the default', () => {
        const banner = (file: string) =>
            readZip(path.join(VSIX, file)).get('extension/dist/extension.js')!.read().toString('utf8').split('\n')[0];
        for (const p of packages) {
            assert.equal(banner(p.file), `/* concord-flavor: ${p.name === 'concord-cursor' ? 'cursor' : 'vscode'} */`, p.file);
        }
    });
});
