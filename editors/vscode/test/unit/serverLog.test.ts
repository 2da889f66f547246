import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { LogOutputChannel } from 'vscode';
import { pipeServerLog } from '../../src/client';

describe('server log', () => {
    it('routes each line of the server’s stderr to the output channel at its own level', async () => {
        const lines: string[] = [];
        const channel = {
            error: (m: string) => lines.push(`error ${m}`),
            warn: (m: string) => lines.push(`warn ${m}`),
            info: (m: string) => lines.push(`info ${m}`),
            debug: (m: string) => lines.push(`debug ${m}`),
            trace: (m: string) => lines.push(`trace ${m}`),
        } as unknown as LogOutputChannel;
        const input = new PassThrough();
        pipeServerLog(input, channel);
        input.end(
            [
                '[INFO  concord::lsp::server] initialize: root Some("/ws")',
                '[WARN  concord::lsp::server] didChange for x which is not open: ignored',
                '[2026-11-25T12:00:00Z ERROR concord::lsp::server] loading the workspace failed: bad',
                '[DEBUG concord] detail',
                '[TRACE concord] more',
                'a line without a level',
            ].join('\n') + '\n',
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(lines, [
            'info initialize: root Some("/ws")',
            'warn didChange for x which is not open: ignored',
            'error loading the workspace failed: bad',
            'debug detail',
            'trace more',
            'info a line without a level',
        ]);
    });
});
