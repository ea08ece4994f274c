import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { NetdiagError } from '../../../src/lib/errors.js';
import { openOwnedFile, ownedFileKind } from '../../../src/lib/owned-output.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'netdiag-owned-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => path.join(scratch, `${n++}-${name}`);
const write = (stream: NodeJS.WritableStream, text: string) =>
  new Promise<void>((resolve) => stream.write(Buffer.from(text), () => resolve()));

describe('ownedFileKind', () => {
  it('tells a missing path, a regular file and anything else apart', () => {
    assert.equal(ownedFileKind(undefined), 'created');
    assert.equal(ownedFileKind({ isFile: () => true }), 'existing');
    assert.equal(ownedFileKind({ isFile: () => false }), 'special');
  });
});

describe('openOwnedFile: a path that did not exist', () => {
  it('is created at open and removed when abandoned', async () => {
    const file = fresh('new.pcap');
    const out = await openOwnedFile(file);
    assert.equal(out.kind, 'created');
    assert.ok(existsSync(file), 'created at open, so an unwritable directory fails before any work');
    await write(out.stream, 'header');
    await out.abandon();
    assert.equal(existsSync(file), false);
    await out.abandon();
  });

  it('keeps everything written when finished, also what was written before commit', async () => {
    const file = fresh('new.pcap');
    const out = await openOwnedFile(file);
    await write(out.stream, 'held ');
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing reaches the file before commit');
    await out.commit();
    await write(out.stream, 'streamed');
    await out.finish();
    assert.equal(readFileSync(file, 'utf8'), 'held streamed');
  });

  it('does not remove a file that replaced it since it was opened', async () => {
    const file = fresh('new.pcap');
    const out = await openOwnedFile(file);
    renameSync(file, `${file}.moved`);
    writeFileSync(file, 'the user wrote this');
    await out.abandon();
    assert.equal(readFileSync(file, 'utf8'), 'the user wrote this');
  });

  it('fails with the cause and a fix in a directory that does not exist', async () => {
    await assert.rejects(openOwnedFile(path.join(scratch, 'missing-dir', 'x.pcap')), (err: NetdiagError) => {
      assert.equal(err.exitCode, 3);
      assert.match(err.message, /cannot write .*missing-dir\/x\.pcap: ENOENT/);
      return true;
    });
  });
});

describe('openOwnedFile: an existing regular file', () => {
  it('keeps every byte when abandoned, even after writes', async () => {
    const file = fresh('yesterday.pcap');
    writeFileSync(file, 'precious data');
    const mtime = statSync(file).mtimeMs;
    const out = await openOwnedFile(file);
    assert.equal(out.kind, 'existing');
    await write(out.stream, 'x'.repeat(100));
    assert.equal(readFileSync(file, 'utf8'), 'precious data', 'not truncated at open nor by writes before commit');
    await out.abandon();
    assert.equal(readFileSync(file, 'utf8'), 'precious data');
    assert.equal(statSync(file).mtimeMs, mtime);
  });

  it('is replaced in place from commit on: shorter content leaves no old tail, the inode and hard links stay', async () => {
    const file = fresh('old.pcap');
    writeFileSync(file, 'a much longer old capture');
    const link = `${file}.link`;
    linkSync(file, link);
    const inode = statSync(file).ino;
    const out = await openOwnedFile(file);
    await write(out.stream, 'new');
    await out.commit();
    await out.finish();
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.equal(statSync(file).ino, inode);
    assert.equal(readFileSync(link, 'utf8'), 'new');
  });

  it('is written through a symbolic link, which stays a link', async () => {
    const file = fresh('target.pcap');
    writeFileSync(file, 'old');
    const link = fresh('link.pcap');
    symlinkSync(file, link);
    const out = await openOwnedFile(link);
    assert.equal(out.kind, 'existing');
    await write(out.stream, 'new');
    await out.finish();
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readFileSync(file, 'utf8'), 'new');
  });

  it('finish without an explicit commit commits (a report written whole, then finished)', async () => {
    const file = fresh('report.html');
    writeFileSync(file, 'old report');
    const out = await openOwnedFile(file);
    await write(out.stream, 'new report');
    await out.finish();
    assert.equal(readFileSync(file, 'utf8'), 'new report');
  });
});

describe('openOwnedFile: anything that is not a regular file', () => {
  it('a character device is written to as it is and never removed', async () => {
    const device = fresh('null');
    const made = spawnSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    assert.equal(made.status, 0, `mknod (the tests run as root): ${made.stderr}`);
    const out = await openOwnedFile(device);
    assert.equal(out.kind, 'special');
    await write(out.stream, 'discarded by the device');
    await out.commit();
    await out.abandon();
    assert.ok(statSync(device).isCharacterDevice(), 'still a character device');
    const again = await openOwnedFile(device);
    await write(again.stream, 'more');
    await again.finish();
    assert.ok(statSync(device).isCharacterDevice());
  });

  it('a FIFO passes the bytes to its reader and stays a FIFO, abandoned or finished', async () => {
    const fifo = fresh('fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo]);
    let read = '';
    reader.stdout.on('data', (d: Buffer) => (read += d.toString()));
    const closed = new Promise((resolve) => reader.on('close', resolve));
    const out = await openOwnedFile(fifo);
    assert.equal(out.kind, 'special');
    await write(out.stream, 'to the reader');
    await out.finish();
    await closed;
    assert.equal(read, 'to the reader');
    assert.ok(statSync(fifo).isFIFO());

    const reader2 = spawn('cat', [fifo]);
    const closed2 = new Promise((resolve) => reader2.on('close', resolve));
    const abandoned = await openOwnedFile(fifo);
    await abandoned.abandon();
    await closed2;
    assert.ok(statSync(fifo).isFIFO());
  });

  it('a socket cannot be opened: an error, and the socket stays', async () => {
    const socketPath = fresh('sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await assert.rejects(openOwnedFile(socketPath), (err: NetdiagError) => err.exitCode === 3);
      assert.ok(statSync(socketPath).isSocket());
    } finally {
      server.close();
    }
  });

  it('a directory fails at open and stays', async () => {
    const dir = fresh('dir');
    mkdirSync(dir);
    await assert.rejects(openOwnedFile(dir), /cannot write .*: EISDIR/);
    assert.ok(statSync(dir).isDirectory());
  });
});
