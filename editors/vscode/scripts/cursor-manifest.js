#!/usr/bin/env node
// editors/cursor/package.json is this package's manifest with the Cursor differences applied:
// its own name, the `cursor-agent` preset by default, an Open VSX-ready description, no
// dependencies (the bundle is built from ../vscode/src). Run after editing
// editors/vscode/package.json; `--check` fails when the committed file is out of date.
'use strict';

const fs = require('fs');
const path = require('path');

const VSCODE = path.join(__dirname, '..');
const CURSOR = path.join(VSCODE, '..', 'cursor');

function cursorManifest(source) {
    const m = JSON.parse(JSON.stringify(source));
    const out = {};
    for (const [key, value] of Object.entries(m)) {
        if (key === 'dependencies' || key === 'devDependencies') continue;
        out[key] = value;
    }
    out.name = 'concord-cursor';
    out.displayName = 'Concord for Cursor';
    out.description =
        'Concord in Cursor: spec chunks, work items, agents\u2019 locks and code in enforced agreement, with diagnostics Cursor agents read and dispatch to cursor-agent by default.';
    out.keywords = [...new Set([...(m.keywords ?? []), 'cursor', 'cursor-agent'])];
    out.contributes.configuration.properties['concord.agent.preset'].default = 'cursor-agent';
    out.contributes.configuration.properties['concord.agent.preset'].markdownDescription = out.contributes.configuration.properties[
        'concord.agent.preset'
    ].markdownDescription.replace('Empty: as `concord.toml` says.', 'Default here: `cursor-agent`. Empty: as `concord.toml` says.');
    out.scripts = {
        build: 'node build.js',
        'vscode:prepublish': 'node build.js --production',
        package: 'bash ../vscode/scripts/package.sh --cursor',
    };
    return out;
}

function render() {
    const source = JSON.parse(fs.readFileSync(path.join(VSCODE, 'package.json'), 'utf8'));
    return JSON.stringify(cursorManifest(source), null, 2) + '\n';
}

module.exports = { cursorManifest, render };

if (require.main === module) {
    const target = path.join(CURSOR, 'package.json');
    const text = render();
    if (process.argv.includes('--check')) {
        const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
        if (current !== text) {
            console.error('editors/cursor/package.json is out of date: run `node editors/vscode/scripts/cursor-manifest.js`');
            process.exit(1);
        }
        console.log('editors/cursor/package.json is up to date');
    } else {
        fs.mkdirSync(CURSOR, { recursive: true });
        fs.writeFileSync(target, text);
        console.log(`wrote ${path.relative(process.cwd(), target)}`);
    }
}
