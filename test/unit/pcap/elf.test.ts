import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ElfMachine,
  UPLOAD_ARCHES,
  isStaticFor,
  readElfFile,
  readElfHeader,
  type UploadArch,
} from '../../../src/pcap/elf.js';
import { FIXTURES } from './frames.js';

/** A minimal ELF header with the given program header types. */
function elf(opts: { cls: 32 | 64; le: boolean; machine: number; type?: number; phTypes: number[] }): Buffer {
  const is64 = opts.cls === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const b = Buffer.alloc(ehsize + phentsize * opts.phTypes.length);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = is64 ? 2 : 1;
  b[5] = opts.le ? 1 : 2;
  b[6] = 1;
  const u16 = (v: number, o: number): number => (opts.le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (v: number, o: number): number => (opts.le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  u16(opts.type ?? 2, 16);
  u16(opts.machine, 18);
  if (is64) {
    if (opts.le) b.writeBigUInt64LE(BigInt(ehsize), 32);
    else b.writeBigUInt64BE(BigInt(ehsize), 32);
    u16(phentsize, 54);
    u16(opts.phTypes.length, 56);
  } else {
    u32(ehsize, 28);
    u16(phentsize, 42);
    u16(opts.phTypes.length, 44);
  }
  opts.phTypes.forEach((t, i) => u32(t, ehsize + i * phentsize));
  return b;
}

test('readElfHeader: class, byte order, machine and static-ness', () => {
  assert.deepEqual(readElfHeader(elf({ cls: 64, le: true, machine: 62, phTypes: [6, 1, 1] })), {
    class: 64,
    littleEndian: true,
    type: 2,
    machine: 62,
    isStatic: true,
  });
  const dyn = readElfHeader(elf({ cls: 64, le: true, machine: 183, type: 3, phTypes: [6, 3, 1, 2] }));
  assert.equal(dyn.isStatic, false, 'PT_INTERP means a dynamic loader is needed');
  assert.equal(dyn.machine, ElfMachine.AARCH64);
  const be32 = readElfHeader(elf({ cls: 32, le: false, machine: 40, phTypes: [1] }));
  assert.deepEqual([be32.class, be32.littleEndian, be32.machine, be32.isStatic], [32, false, 40, true]);
  // program headers cut off: unknown, not a guess
  assert.equal(
    readElfHeader(elf({ cls: 64, le: true, machine: 62, phTypes: [1, 3] }).subarray(0, 80)).isStatic,
    undefined,
  );
  assert.throws(() => readElfHeader(Buffer.from('#!/bin/sh\necho not elf\n'.padEnd(64))), /not an ELF/);
});

test('isStaticFor checks machine, class, byte order and interpreter', () => {
  const amd = readElfHeader(elf({ cls: 64, le: true, machine: 62, phTypes: [1] }));
  assert.equal(isStaticFor(amd, 'amd64'), true);
  assert.equal(isStaticFor(amd, 'arm64'), false);
  assert.equal(isStaticFor(readElfHeader(elf({ cls: 64, le: true, machine: 62, phTypes: [3] })), 'amd64'), false);
  assert.equal(isStaticFor(readElfHeader(elf({ cls: 64, le: false, machine: 183, phTypes: [1] })), 'arm64'), false);
});

test('readElfFile sees a dynamic system binary as dynamic', async (t) => {
  const node = process.execPath;
  const info = await readElfFile(node);
  assert.equal(info.isStatic, false, `${node} needs ld.so`);
  assert.equal(info.class, 64);
  t.diagnostic(`node machine ${info.machine}`);
  await assert.rejects(readElfFile(join(FIXTURES, 'lo-ethernet-us.pcap')), /not an ELF/);
});

// The uploaded binaries made by scripts/build-tcpdump (gitignored). CI sets NETDIAG_REQUIRE_ASSETS=1 after
// building them; elsewhere a missing asset skips, an asset that is present is always checked.
const assetsDir = process.env.NETDIAG_ASSETS_DIR ?? join(FIXTURES, '..', '..', '..', 'assets');
for (const arch of Object.keys(UPLOAD_ARCHES) as UploadArch[]) {
  const file = join(assetsDir, 'tcpdump', `linux-${arch}`, 'tcpdump');
  const required = process.env.NETDIAG_REQUIRE_ASSETS === '1';
  test(
    `asset tcpdump for linux/${arch} is a static ELF for that machine`,
    { skip: !required && !existsSync(file) && `${file} not built` },
    async () => {
      assert.ok(existsSync(file), `${file} is missing: run scripts/build-tcpdump`);
      const info = await readElfFile(file);
      assert.equal(info.machine, UPLOAD_ARCHES[arch].machine, `e_machine of ${file}`);
      assert.equal(info.class, 64);
      assert.equal(info.littleEndian, true);
      assert.equal(info.isStatic, true, `${file} has no PT_INTERP`);
      assert.equal(isStaticFor(info, arch), true);
    },
  );
}
