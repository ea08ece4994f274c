/**
 * pcapng block encoders and a small stateful writer (little-endian sections).
 *
 * Block layouts follow draft-ietf-opsawg-pcapng: every block is type(4) | total length(4) | body | total length(4),
 * bodies and options padded to 32 bits, options end with opt_endofopt.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_NRB = 0x00000004;
export const BLOCK_ISB = 0x00000005;
export const BLOCK_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Link types a sniff usually sees (`-i any` gives SLL or SLL2 depending on libpcap). */
export const LinkType = {
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
} as const;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_OS = 12;
const NRB_RECORD_END = 0;
const NRB_RECORD_IPV4 = 1;
const NRB_RECORD_IPV6 = 2;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const ISB_FILTERACCEPT = 6;
const ISB_OSDROP = 7;
const ISB_USRDELIV = 8;

type Option = [code: number, value: Buffer];

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function encodeOptions(options: Option[]): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const [code, value] of options) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value, Buffer.alloc(pad4(value.length)));
  }
  const end = Buffer.alloc(4); // opt_endofopt, length 0
  end.writeUInt16LE(OPT_ENDOFOPT, 0);
  parts.push(end);
  return Buffer.concat(parts);
}

function block(type: number, body: Buffer[]): Buffer {
  const bodyLen = body.reduce((n, b) => n + b.length, 0);
  const padding = pad4(bodyLen);
  const total = 12 + bodyLen + padding;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(total, 4);
  const tail = Buffer.alloc(padding + 4);
  tail.writeUInt32LE(total, padding);
  return Buffer.concat([head, ...body, tail]);
}

const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

/** pcapng timestamps are (high 32, low 32) of a 64-bit count of if_tsresol units. */
function timestamp(tsNanos: bigint, nanos: boolean): Buffer {
  const units = nanos ? tsNanos : tsNanos / 1000n;
  const b = Buffer.alloc(8);
  b.writeUInt32LE(Number((units >> 32n) & 0xffffffffn), 0);
  b.writeUInt32LE(Number(units & 0xffffffffn), 4);
  return b;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Section Header Block options. */
export interface SectionInfo {
  /** shb_userappl, e.g. `kubectl-netdiag 0.1.0`. */
  userAppl: string;
  hardware?: string;
  os?: string;
  comment?: string;
}

export function encodeSectionHeader(info: SectionInfo): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeBigInt64LE(-1n, 8); // section length unknown: we stream
  const options: Option[] = [];
  if (info.comment !== undefined) options.push([OPT_COMMENT, text(info.comment)]);
  if (info.hardware !== undefined) options.push([SHB_HARDWARE, text(info.hardware)]);
  if (info.os !== undefined) options.push([SHB_OS, text(info.os)]);
  options.push([SHB_USERAPPL, text(info.userAppl)]);
  return block(BLOCK_SHB, [fixed, encodeOptions(options)]);
}

/** One capture source, written as an Interface Description Block. */
export interface InterfaceInfo {
  linkType: number;
  snaplen: number;
  /** if_tsresol 9 (nanoseconds) when true, the default 6 (microseconds) when false. */
  nanos: boolean;
  /** if_name, e.g. `default/web-0/app`. */
  name: string;
  /** if_description, e.g. `k8s.pod=web-0 k8s.namespace=default k8s.container=app k8s.node=worker1`. */
  description?: string;
  /** if_os, e.g. the node's kernel. */
  os?: string;
}

export function encodeInterfaceDescription(info: InterfaceInfo): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(info.linkType & 0xffff, 0);
  fixed.writeUInt32LE(info.snaplen >>> 0, 4);
  const options: Option[] = [[IF_NAME, text(info.name)]];
  if (info.description !== undefined) options.push([IF_DESCRIPTION, text(info.description)]);
  if (info.nanos) options.push([IF_TSRESOL, Buffer.from([9])]);
  if (info.os !== undefined) options.push([IF_OS, text(info.os)]);
  return block(BLOCK_IDB, [fixed, encodeOptions(options)]);
}

/** An Enhanced Packet Block for interface `interfaceId` whose IDB has the given resolution. */
export function encodeEnhancedPacket(
  interfaceId: number,
  nanos: boolean,
  packet: { tsNanos: bigint; origLen: number; data: Buffer },
): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(interfaceId, 0);
  timestamp(packet.tsNanos, nanos).copy(fixed, 4);
  fixed.writeUInt32LE(packet.data.length, 12);
  fixed.writeUInt32LE(packet.origLen, 16);
  return block(BLOCK_EPB, [fixed, packet.data]);
}

/** One name for one address in a Name Resolution Block. */
export interface NameRecord {
  /** IPv4 dotted quad or IPv6 text form. */
  ip: string;
  /** e.g. `web-0.default` for a pod, `web.default` for a Service. */
  name: string;
}

/** IPv6 text form → 16 bytes (handles `::` and an embedded IPv4 tail). */
export function ipv6Bytes(ip: string): Buffer {
  if (!isIPv6(ip)) throw new RangeError(`not an IPv6 address: ${ip}`);
  const zone = ip.indexOf('%');
  let s = zone >= 0 ? ip.slice(0, zone) : ip;
  const out = Buffer.alloc(16);
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1] !== undefined) {
    tail = v4[1].split('.').map(Number);
    s = s.slice(0, s.length - v4[1].length) + '0:0';
  }
  const [headText, tailText] = s.split('::') as [string, string | undefined];
  const groups = (t: string | undefined): number[] =>
    t
      ? t
          .split(':')
          .filter((g) => g !== '')
          .map((g) => parseInt(g, 16))
      : [];
  const head = groups(headText);
  const rest = groups(tailText);
  const all =
    tailText === undefined ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

/** A Name Resolution Block; several names of one address become one record. Throws on a non-IP address. */
export function encodeNameResolution(records: readonly NameRecord[]): Buffer {
  const byIp = new Map<string, string[]>();
  for (const r of records) byIp.set(r.ip, [...(byIp.get(r.ip) ?? []), r.name]);
  const parts: Buffer[] = [];
  for (const [ip, names] of byIp) {
    let type: number;
    let addr: Buffer;
    if (isIPv4(ip)) {
      type = NRB_RECORD_IPV4;
      addr = Buffer.from(ip.split('.').map(Number));
    } else if (isIPv6(ip)) {
      type = NRB_RECORD_IPV6;
      addr = ipv6Bytes(ip);
    } else {
      throw new RangeError(`not an IP address: ${ip}`);
    }
    const value = Buffer.concat([addr, ...names.map((n) => Buffer.concat([text(n), Buffer.from([0])]))]);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(type, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value, Buffer.alloc(pad4(value.length)));
  }
  const end = Buffer.alloc(4);
  end.writeUInt16LE(NRB_RECORD_END, 0);
  parts.push(end);
  return block(BLOCK_NRB, parts);
}

/** Capture statistics for one interface. Counts that are unknown are left out of the block. */
export interface InterfaceStatistics {
  /** When the statistics were taken (ns since epoch). */
  tsNanos: bigint;
  startNanos?: bigint;
  endNanos?: bigint;
  /** isb_ifrecv: packets received (tcpdump "received by filter", like dumpcap's ps_recv). */
  ifRecv?: number;
  /** isb_ifdrop: packets dropped (tcpdump "dropped by kernel" + "dropped by interface", like dumpcap). */
  ifDrop?: number;
  /** isb_filteraccept. */
  filterAccept?: number;
  /** isb_osdrop. */
  osDrop?: number;
  /** isb_usrdeliv: packets delivered to tcpdump ("packets captured"). */
  userDelivered?: number;
}

export function encodeInterfaceStatistics(interfaceId: number, nanos: boolean, s: InterfaceStatistics): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(interfaceId, 0);
  timestamp(s.tsNanos, nanos).copy(fixed, 4);
  const options: Option[] = [];
  if (s.startNanos !== undefined) options.push([ISB_STARTTIME, timestamp(s.startNanos, nanos)]);
  if (s.endNanos !== undefined) options.push([ISB_ENDTIME, timestamp(s.endNanos, nanos)]);
  const counters: [number, number | undefined][] = [
    [ISB_IFRECV, s.ifRecv],
    [ISB_IFDROP, s.ifDrop],
    [ISB_FILTERACCEPT, s.filterAccept],
    [ISB_OSDROP, s.osDrop],
    [ISB_USRDELIV, s.userDelivered],
  ];
  for (const [code, value] of counters) if (value !== undefined) options.push([code, u64(BigInt(value))]);
  return block(BLOCK_ISB, [fixed, encodeOptions(options)]);
}

/**
 * Stateful pcapng encoder for one section: hands out interface ids in IDB order, remembers each interface's
 * timestamp resolution and which names were already written. It returns Buffers and never touches a stream, so
 * the caller decides about backpressure.
 */
export class PcapngWriter {
  private readonly interfaces: InterfaceInfo[] = [];
  private readonly written = new Set<string>();

  /** The SHB; must be the first bytes of the output. */
  sectionHeader(info: SectionInfo): Buffer {
    return encodeSectionHeader(info);
  }

  /** Registers an interface; returns its id and the IDB to write before any of its packets. */
  addInterface(info: InterfaceInfo): { id: number; block: Buffer } {
    this.interfaces.push(info);
    return { id: this.interfaces.length - 1, block: encodeInterfaceDescription(info) };
  }

  /** The interface registered under `id`. */
  interface(id: number): InterfaceInfo | undefined {
    return this.interfaces[id];
  }

  packet(id: number, packet: { tsNanos: bigint; origLen: number; data: Buffer }): Buffer {
    return encodeEnhancedPacket(id, this.nanosOf(id), packet);
  }

  /** An NRB holding only the (ip, name) pairs not written before, or undefined when nothing is new. */
  names(records: readonly NameRecord[]): Buffer | undefined {
    const fresh = records.filter((r) => {
      const key = `${r.ip}\u0000${r.name}`;
      if (this.written.has(key)) return false;
      this.written.add(key);
      return true;
    });
    return fresh.length > 0 ? encodeNameResolution(fresh) : undefined;
  }

  statistics(id: number, stats: InterfaceStatistics): Buffer {
    return encodeInterfaceStatistics(id, this.nanosOf(id), stats);
  }

  private nanosOf(id: number): boolean {
    const info = this.interfaces[id];
    if (info === undefined) throw new RangeError(`pcapng interface ${id} was never added`);
    return info.nanos;
  }
}

/** if_name and if_description for a Kubernetes capture source, in Inspektor Gadget's `k8s.*=` style. */
export function k8sInterface(source: { pod: string; namespace: string; container?: string; node?: string }): {
  name: string;
  description: string;
} {
  const name = [source.namespace, source.pod, source.container].filter((p) => p !== undefined).join('/');
  const fields: [string, string | undefined][] = [
    ['k8s.pod', source.pod],
    ['k8s.namespace', source.namespace],
    ['k8s.container', source.container],
    ['k8s.node', source.node],
  ];
  const description = fields
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return { name, description };
}
