/**
 * Just enough of ELF, Mach-O and PE to check that a release binary is what its archive claims (format and
 * CPU) and that the SEA blob went in, for the platforms whose binaries cannot run on the build machine.
 */
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
