#!/usr/bin/env node
// Bundle the extension with esbuild. The Cursor package (editors/cursor) calls `build` with its
// own folder and flavour: same sources, another define.
//
//   node scripts/build.js [--production] [--flavor vscode|cursor] [--outdir DIR]
'use strict';

const path = require('path');
const esbuild = require('esbuild');

const SOURCE = path.join(__dirname, '..', 'src', 'extension.ts');

/**
 * @param {{flavor?: 'vscode'|'cursor', outdir?: string, production?: boolean}} options
 */
async function build(options = {}) {
    const flavor = options.flavor ?? 'vscode';
    if (flavor !== 'vscode' && flavor !== 'cursor') throw new Error(`unknown flavor ${flavor}`);
    const outdir = options.outdir ?? path.join(__dirname, '..', 'dist');
    const result = await esbuild.build({
        entryPoints: [SOURCE],
        outfile: path.join(outdir, 'extension.js'),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node18',
        external: ['vscode'],
        define: { __CONCORD_FLAVOR__: JSON.stringify(flavor) },
        banner: { js: `/* concord-flavor: ${flavor} */` },
        minify: !!options.production,
        sourcemap: options.production ? false : 'linked',
        legalComments: 'none',
        logLevel: 'warning',
        metafile: true,
    });
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    console.log(`built ${path.relative(process.cwd(), path.join(outdir, 'extension.js'))} (${flavor}, ${Math.round(bytes / 1024)} KiB)`);
    return result;
}

module.exports = { build };

if (require.main === module) {
    const args = process.argv.slice(2);
    const value = (name) => {
        const i = args.indexOf(name);
        return i >= 0 ? args[i + 1] : undefined;
    };
    build({
        production: args.includes('--production'),
        flavor: value('--flavor'),
        outdir: value('--outdir') && path.resolve(value('--outdir')),
    }).catch((error) => {
        console.error(error.message ?? error);
        process.exit(1);
    });
}
