/**
 * Just enough of ELF, Mach-O and PE to check that a release binary is what its archive claims (format and
 * CPU) and that the SEA blob went in, for the platforms whose binaries cannot run on the build machine.
 */
import { createHash } from 'node:crypto';

import type { Arch, ExecutableFormat } from './platforms.js';

export interface ExecutableInfo {
  readonly format: ExecutableFormat;
  readonly arch: Arch | `unknown(${string})`;
  /** Mach-O: has an LC_CODE_SIGNATURE load command. PE: has an Authenticode certificate table. */
  readonly signed: boolean;
}

const ELF_MACHINE: Record<number, Arch> = { 0x3e: 'amd64', 0xb7: 'arm64' };
const MACHO_CPU: Record<number, Arch> = { 0x01000007: 'amd64', 0x0100000c: 'arm64' };
const PE_MACHINE: Record<number, Arch> = { 0x8664: 'amd64', 0xaa64: 'arm64' };
const LC_CODE_SIGNATURE = 0x1d;

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const archOf = (table: Record<number, Arch>, value: number): ExecutableInfo['arch'] =>
  table[value] ?? `unknown(0x${value.toString(16)})`;

export function inspectExecutable(bytes: Buffer): ExecutableInfo {
  if (bytes.length >= 20 && bytes.readUInt32BE(0) === 0x7f454c46) {
    if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error('ELF: not a 64-bit little-endian executable');
    return { format: 'elf', arch: archOf(ELF_MACHINE, bytes.readUInt16LE(18)), signed: false };
  }
  if (bytes.length >= 32 && bytes.readUInt32LE(0) === 0xfeedfacf) {
    const ncmds = bytes.readUInt32LE(16);
    let offset = 32;
    let signed = false;
    for (let i = 0; i < ncmds; i++) {
      const cmd = bytes.readUInt32LE(offset);
      if (cmd === LC_CODE_SIGNATURE) signed = true;
      offset += bytes.readUInt32LE(offset + 4);
    }
    return { format: 'macho', arch: archOf(MACHO_CPU, bytes.readUInt32LE(4)), signed };
  }
  if (bytes.length >= 64 && bytes.readUInt16LE(0) === 0x5a4d) {
    const pe = peHeaders(bytes);
    return { format: 'pe', arch: archOf(PE_MACHINE, bytes.readUInt16LE(pe.coff)), signed: pe.certificateSize > 0 };
  }
  throw new Error('not an ELF, 64-bit Mach-O or PE executable');
}

interface PeHeaders {
  /** Offset of the COFF file header (after the `PE\0\0` signature). */
  readonly coff: number;
  readonly optional: number;
  /** Offset of data directory 4 (the certificate table: file offset and size, not an RVA). */
  readonly certificateEntry: number;
  readonly certificateOffset: number;
  readonly certificateSize: number;
}

function peHeaders(bytes: Buffer): PeHeaders {
  const peOffset = bytes.readUInt32LE(0x3c);
  if (bytes.readUInt32BE(peOffset) !== 0x50450000) throw new Error('PE: missing PE signature');
  const coff = peOffset + 4;
  const optional = coff + 20;
  const magic = bytes.readUInt16LE(optional);
  if (magic !== 0x20b) throw new Error(`PE: optional header magic 0x${magic.toString(16)} is not PE32+`);
  const certificateEntry = optional + 112 + 4 * 8;
  return {
    coff,
    optional,
    certificateEntry,
    certificateOffset: bytes.readUInt32LE(certificateEntry),
    certificateSize: bytes.readUInt32LE(certificateEntry + 4),
  };
}

/**
 * Removes the Authenticode signature of a PE file (what `signtool remove /s` does): injecting the SEA blob
 * invalidates Node's signature, and a present-but-invalid signature is worse than none. The certificate table
 * sits at the end of the file; the data directory entry and the header checksum are zeroed.
 */
export function stripAuthenticode(bytes: Buffer): Buffer {
  const pe = peHeaders(bytes);
  if (pe.certificateSize === 0) return bytes;
  if (pe.certificateOffset + pe.certificateSize !== bytes.length) {
    throw new Error('PE: the certificate table is not at the end of the file');
  }
  const out = Buffer.from(bytes.subarray(0, pe.certificateOffset));
  out.writeUInt32LE(0, pe.certificateEntry);
  out.writeUInt32LE(0, pe.certificateEntry + 4);
  out.writeUInt32LE(0, pe.optional + 64);
  return out;
}

/** The fuse byte after `NODE_SEA_FUSE_…:` is '1' once postject has injected a blob (and '0' in a plain node). */
export function seaFuseState(bytes: Buffer): 'injected' | 'plain' | 'absent' {
  const at = bytes.indexOf(`${SEA_FUSE}:`);
  if (at < 0) return 'absent';
  return bytes[at + SEA_FUSE.length + 1] === 0x31 ? 'injected' : 'plain';
}

const CS_SUPERBLOB = 0xfade0cc0;
const CS_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;

/**
 * Checks a Mach-O's ad hoc signature the way the macOS kernel does when it maps pages: the CodeDirectory is
 * marked ad hoc, and each code-slot hash equals the SHA-256 of that page of the file. (rcodesign's own
 * `verify` reports a false error for the empty CMS blob that ad hoc signatures carry.)
 * Returns the signing identifier.
 */
export function verifyAdHocSignature(bytes: Buffer): string {
  const ncmds = bytes.readUInt32LE(16);
  let offset = 32;
  let signature: { dataoff: number; datasize: number } | undefined;
  for (let i = 0; i < ncmds; i++) {
    if (bytes.readUInt32LE(offset) === LC_CODE_SIGNATURE) {
      signature = { dataoff: bytes.readUInt32LE(offset + 8), datasize: bytes.readUInt32LE(offset + 12) };
    }
    offset += bytes.readUInt32LE(offset + 4);
  }
  if (signature === undefined) throw new Error('Mach-O: no LC_CODE_SIGNATURE');
  const sb = signature.dataoff;
  if (bytes.readUInt32BE(sb) !== CS_SUPERBLOB) throw new Error('Mach-O: code signature is not a SuperBlob');
  const count = bytes.readUInt32BE(sb + 8);
  let cd = -1;
  for (let i = 0; i < count; i++) {
    if (bytes.readUInt32BE(sb + 12 + i * 8) === 0) cd = sb + bytes.readUInt32BE(sb + 12 + i * 8 + 4);
  }
  if (cd < 0 || bytes.readUInt32BE(cd) !== CS_CODEDIRECTORY) throw new Error('Mach-O: no CodeDirectory');
  const flags = bytes.readUInt32BE(cd + 12);
  const hashOffset = bytes.readUInt32BE(cd + 16);
  const identOffset = bytes.readUInt32BE(cd + 20);
  const nCodeSlots = bytes.readUInt32BE(cd + 28);
  const codeLimit = bytes.readUInt32BE(cd + 32);
  const hashSize = bytes[cd + 36] ?? 0;
  const hashType = bytes[cd + 37];
  const pageSize = 2 ** (bytes[cd + 39] ?? 0);
  if ((flags & CS_ADHOC) === 0) throw new Error('Mach-O: signature is not ad hoc');
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) throw new Error('Mach-O: CodeDirectory is not SHA-256');
  if (codeLimit !== signature.dataoff) throw new Error('Mach-O: signature does not cover the file up to itself');
  if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) throw new Error('Mach-O: wrong number of code slots');
  for (let i = 0; i < nCodeSlots; i++) {
    const page = bytes.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    const expected = bytes.subarray(cd + hashOffset + i * hashSize, cd + hashOffset + (i + 1) * hashSize);
    if (!createHash('sha256').update(page).digest().equals(expected)) {
      throw new Error(`Mach-O: page ${i} does not match its code-directory hash`);
    }
  }
  const identEnd = bytes.indexOf(0, cd + identOffset);
  return bytes.toString('utf8', cd + identOffset, identEnd);
}
