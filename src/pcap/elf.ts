/**
 * Just enough ELF to pick and check the static tcpdump uploaded into a container: class, byte order, machine
 * and whether the binary needs a program interpreter (dynamic loader).
 */
import { open } from 'node:fs/promises';

/** e_machine values we care about. */
export const ElfMachine = {
  X86: 3,
  ARM: 40,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
} as const;

/** Architectures we ship a static tcpdump for (assets/tcpdump/linux-<arch>/tcpdump), with their ELF machine. */
export const UPLOAD_ARCHES = {
  amd64: { machine: ElfMachine.X86_64, className: 64 },
  arm64: { machine: ElfMachine.AARCH64, className: 64 },
} as const;
export type UploadArch = keyof typeof UPLOAD_ARCHES;

export interface ElfInfo {
  class: 32 | 64;
  littleEndian: boolean;
  /** e_type: 2 executable, 3 shared object / PIE. */
  type: number;
  /** e_machine (see {@link ElfMachine}). */
  machine: number;
  /**
   * True when there is no PT_INTERP program header (runs without a dynamic loader, static-pie included);
   * undefined when the program headers lie outside the bytes given.
   */
  isStatic: boolean | undefined;
}

const PT_INTERP = 3;

/** Parses an ELF header (pass at least the first 4 KiB to get `isStatic`). Throws on anything that is not ELF. */
export function readElfHeader(bytes: Uint8Array): ElfInfo {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 52 || b.readUInt32BE(0) !== 0x7f454c46) throw new RangeError('not an ELF file');
  const cls = b[4] === 1 ? 32 : b[4] === 2 ? 64 : undefined;
  const le = b[5] === 1 ? true : b[5] === 2 ? false : undefined;
  if (cls === undefined || le === undefined) throw new RangeError('unknown ELF class or byte order');
  if (cls === 64 && b.length < 64) throw new RangeError('truncated ELF64 header');
  const u16 = (o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number): number => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const phoff = cls === 64 ? u64(32) : u32(28);
  const phentsize = u16(cls === 64 ? 54 : 42);
  const phnum = u16(cls === 64 ? 56 : 44);
  let isStatic: boolean | undefined;
  if (phnum === 0) {
    isStatic = true;
  } else if (phoff + phnum * phentsize <= b.length && phentsize >= 4) {
    isStatic = true;
    for (let i = 0; i < phnum; i++) if (u32(phoff + i * phentsize) === PT_INTERP) isStatic = false;
  }
  return { class: cls, littleEndian: le, type: u16(16), machine: u16(18), isStatic };
}

/** Reads the ELF header of a file (first 4 KiB). */
export async function readElfFile(path: string): Promise<ElfInfo> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return readElfHeader(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/**
 * True when `info` is a binary a linux/`arch` container can run without any library: 64-bit little-endian,
 * the arch's machine, no program interpreter.
 */
export function isStaticFor(info: ElfInfo, arch: UploadArch): boolean {
  const want = UPLOAD_ARCHES[arch];
  return info.class === want.className && info.littleEndian && info.machine === want.machine && info.isStatic === true;
}
