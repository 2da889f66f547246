// Runs the extension-host tests of Concord inside a real VS Code: the offline equivalent of
// @vscode/test-electron's test runner. Does nothing unless CONCORD_E2E_DIR is set.
'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');

const TEST_TIMEOUT_MS = 120000;
const WAIT_FOR_GO_MS = 15 * 60 * 1000;

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, name) {
    let timer;
    return Promise.race([
        promise,
        new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

async function runAll(dir) {
    const resultsFile = path.join(dir, 'host-results.json');
    const go = path.join(dir, 'go');
    const deadline = Date.now() + WAIT_FOR_GO_MS;
    while (!fs.existsSync(go)) {
        if (Date.now() > deadline) return;
        await sleep(250);
    }
    const results = [];
    const started = Date.now();
    try {
        const module = require(process.env.CONCORD_E2E_HOST_TESTS);
        const tests = [];
        module.register(vscode, (name, fn) => tests.push({ name, fn }));
        for (const { name, fn } of tests) {
            const t0 = Date.now();
            try {
                await withTimeout(Promise.resolve().then(fn), TEST_TIMEOUT_MS, name);
                results.push({ name, ok: true, ms: Date.now() - t0 });
            } catch (error) {
                results.push({ name, ok: false, ms: Date.now() - t0, error: String((error && error.stack) || error) });
            }
        }
    } catch (error) {
        results.push({ name: 'loading the test module', ok: false, ms: 0, error: String((error && error.stack) || error) });
    }
    const summary = {
        passed: results.filter((r) => r.ok).length,
        failed: results.filter((r) => !r.ok).length,
        ms: Date.now() - started,
        vscodeVersion: vscode.version,
        results,
    };
    fs.writeFileSync(`${resultsFile}.tmp`, JSON.stringify(summary, null, 2));
    fs.renameSync(`${resultsFile}.tmp`, resultsFile);
}

function activate() {
    const dir = process.env.CONCORD_E2E_DIR;
    if (!dir || !process.env.CONCORD_E2E_HOST_TESTS) return;
    // A second window (a reload) must not run the tests again.
    const claim = path.join(dir, 'claimed');
    try {
        fs.writeFileSync(claim, String(process.pid), { flag: 'wx' });
    } catch {
        return;
    }
    runAll(dir).catch((error) => {
        fs.writeFileSync(path.join(dir, 'host-results.json'), JSON.stringify({ passed: 0, failed: 1, results: [{ name: 'runner', ok: false, error: String(error) }] }));
    });
}

function deactivate() {}

module.exports = { activate, deactivate };
