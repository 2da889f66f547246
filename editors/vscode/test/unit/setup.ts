// Preloaded by the unit tests (`node --require`): `require('vscode')` gets the stub, and
// `require('vscode-languageclient/node')` a fake client that records what it was given.
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = Module._resolveFilename;
const replacements: Record<string, string> = {
    vscode: path.join(__dirname, 'stubs', 'vscode.js'),
    'vscode-languageclient/node': path.join(__dirname, 'stubs', 'languageclient.js'),
};
Module._resolveFilename = function (request: string, ...rest: unknown[]): string {
    const replacement = replacements[request];
    return replacement ?? original.call(this, request, ...rest);
};
