// Which workspace folder a server command is for, in a window with several.
import * as assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { withFolder } from '../../src/client';
import { Uri, workspace } from './stubs/vscode';

const one = [{ uri: Uri.file('/w/shop'), name: 'shop', index: 0 }];
const two = [...one, { uri: Uri.file('/w/admin'), name: 'admin', index: 1 }];

describe('withFolder', () => {
    const saved = workspace.workspaceFolders;
    afterEach(() => {
        workspace.workspaceFolders = saved;
    });

    it('leaves a single folder\'s arguments as they are', () => {
        workspace.workspaceFolders = one;
        assert.deepEqual(withFolder('concord.dispatch', { dryRun: true }, one as any, Uri.file('/w/shop/a.py') as any), [{ dryRun: true }]);
        assert.deepEqual(withFolder('concord.queue', undefined, one as any, undefined), []);
    });

    it('names the active editor\'s folder when there are several', () => {
        workspace.workspaceFolders = two;
        assert.deepEqual(withFolder('concord.lock.acquire', { task: 'WBS-005' }, two as any, Uri.file('/w/admin/src/x.ts') as any), [
            { task: 'WBS-005', folder: 'file:///w/admin' },
        ]);
        assert.deepEqual(withFolder('concord.queue', undefined, two as any, Uri.file('/w/shop/a.py') as any), [{ folder: 'file:///w/shop' }]);
    });

    it('keeps a folder given, covers every folder for the status, and leaves the choice to the server without an editor', () => {
        workspace.workspaceFolders = two;
        const given = { id: 'WBS-001', folder: 'file:///w/shop' };
        assert.deepEqual(withFolder('concord.review', given, two as any, Uri.file('/w/admin/x.ts') as any), [given]);
        assert.deepEqual(withFolder('concord.status', undefined, two as any, Uri.file('/w/admin/x.ts') as any), []);
        assert.deepEqual(withFolder('concord.dispatch', {}, two as any, undefined), [{}]);
        assert.deepEqual(withFolder('concord.dispatch', {}, two as any, Uri.file('/elsewhere/x.ts') as any), [{}]);
    });
});
