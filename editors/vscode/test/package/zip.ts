// Just enough of the zip format to inspect a VSIX: the central directory (names, Unix modes)
// and stored or deflated entries.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

export interface ZipEntry {
    name: string;
    /** Unix permission bits, when the archive recorded them. */
    mode: number | undefined;
    size: number;
    read(): Buffer;
}

export function readZip(file: string): Map<string, ZipEntry> {
    const data = fs.readFileSync(file);
    let eocd = -1;
    for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
        if (data.readUInt32LE(i) === 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) throw new Error(`${file} is not a zip archive`);
    const count = data.readUInt16LE(eocd + 10);
    let at = data.readUInt32LE(eocd + 16);
    const entries = new Map<string, ZipEntry>();
    for (let n = 0; n < count; n++) {
        if (data.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
        const madeBy = data.readUInt16LE(at + 4) >> 8;
        const method = data.readUInt16LE(at + 10);
        const compressed = data.readUInt32LE(at + 20);
        const size = data.readUInt32LE(at + 24);
        const nameLength = data.readUInt16LE(at + 28);
        const extraLength = data.readUInt16LE(at + 30);
        const commentLength = data.readUInt16LE(at + 32);
        const external = data.readUInt32LE(at + 38);
        const local = data.readUInt32LE(at + 42);
        const name = data.toString('utf8', at + 46, at + 46 + nameLength);
        entries.set(name, {
            name,
            mode: madeBy === 3 ? (external >>> 16) & 0o7777 : undefined,
            size,
            read: () => {
                const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
                const raw = data.subarray(start, start + compressed);
                if (method === 0) return Buffer.from(raw);
                if (method === 8) return zlib.inflateRawSync(raw);
                throw new Error(`${name}: unsupported compression method ${method}`);
            },
        });
        at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}
