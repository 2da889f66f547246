#!/usr/bin/env node
// The Cursor package has no sources of its own: it bundles ../vscode/src with the `cursor`
// flavour (see ../vscode/scripts/build.js). Needs `npm ci` in ../vscode first.
'use strict';

const path = require('path');
const { build } = require('../vscode/scripts/build.js');

build({ flavor: 'cursor', outdir: path.join(__dirname, 'dist'), production: process.argv.includes('--production') }).catch((error) => {
    console.error(error.message ?? error);
    process.exit(1);
});
