/** Test helpers: real IPv4/UDP frames with Ethernet, SLL and SLL2 link headers, and classic pcap files. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Readable } from 'node:stream';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../../test/fixtures/pcap');

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) sum += (buf[i]! << 8) + (buf[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 header + UDP header + payload (UDP checksum 0 = not computed, valid for IPv4). */
export function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

const MAC_A = Buffer.from('02000000000a', 'hex');
const MAC_B = Buffer.from('02000000000b', 'hex');

export function ethernet(ipPacket: Buffer): Buffer {
  return Buffer.concat([MAC_B, MAC_A, Buffer.from([0x08, 0x00]), ipPacket]);
}

/** LINKTYPE_LINUX_SLL (113): 16-byte cooked header, outgoing packet from MAC_A. */
export function sll(ipPacket: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(4, 0); // sent by us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  MAC_A.copy(h, 6);
  h.writeUInt16BE(0x0800, 14);
  return Buffer.concat([h, ipPacket]);
}

/** LINKTYPE_LINUX_SLL2 (276): 20-byte cooked header v2. */
export function sll2(ipPacket: Buffer, ifIndex = 2): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(0x0800, 0);
  h.writeUInt32BE(ifIndex, 4);
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 0; // to us
  h[11] = 6;
  MAC_B.copy(h, 12);
  return Buffer.concat([h, ipPacket]);
}

export interface TestPacket {
  tsNanos: bigint;
  data: Buffer;
  origLen?: number;
}

/** A classic pcap file as tcpdump would write it. */
export function classicPcap(
  opts: { bigEndian?: boolean; nanos?: boolean; linkType: number; snaplen?: number },
  packets: readonly TestPacket[],
): Buffer {
  const be = opts.bigEndian ?? false;
  const u16 = (b: Buffer, v: number, o: number): number => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
  const u32 = (b: Buffer, v: number, o: number): number => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
  const head = Buffer.alloc(24);
  u32(head, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(head, 2, 4);
  u16(head, 4, 6);
  u32(head, opts.snaplen ?? 262144, 16);
  u32(head, opts.linkType, 20);
  const parts: Buffer[] = [head];
  for (const p of packets) {
    const rec = Buffer.alloc(16);
    const sec = p.tsNanos / 1_000_000_000n;
    const frac = p.tsNanos % 1_000_000_000n;
    u32(rec, Number(sec), 0);
    u32(rec, Number(opts.nanos ? frac : frac / 1000n), 4);
    u32(rec, p.data.length, 8);
    u32(rec, p.origLen ?? p.data.length, 12);
    parts.push(rec, p.data);
  }
  return Buffer.concat(parts);
}

/** A Readable that hands out `bytes` in chunks of the given sizes (cycled), to exercise split records. */
export function chunked(bytes: Buffer, sizes: readonly number[] = [7, 1, 33, 100, 3]): Readable {
  const chunks: Uint8Array[] = [];
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(off, off + n));
    off += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** Collects a Readable into one Buffer. */
export async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Nanoseconds since the epoch for a second and a sub-second part. */
export const ts = (sec: number, nanos = 0): bigint => BigInt(sec) * 1_000_000_000n + BigInt(nanos);
