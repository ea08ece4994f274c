/**
 * DNS messages out of captured packets: link layer (Linux cooked SLL/SLL2 from `-i any`, Ethernet, raw IP) → IPv4/IPv6
 * → UDP or TCP port 53 → the DNS header and first question. Only what the --capture summary needs: who asked what,
 * which type, and the response code. Pure.
 */
import { EventEmitter } from 'node:events';
import pcapParser from 'pcap-parser';
import { PCAP_MAGIC_MICROS, parsePcapHeader } from '../pcap/classic.js';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const DNS_PORT = 53;

const QTYPES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  255: 'ANY',
};
const RCODES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export interface DnsPacket {
  readonly tsNanos: bigint;
  readonly src: string;
  readonly dst: string;
  readonly transport: 'udp' | 'tcp';
  readonly id: number;
  readonly response: boolean;
  /** Response code name (responses only). */
  readonly rcode: string | undefined;
  readonly truncated: boolean;
  readonly name: string;
  readonly type: string;
  readonly answers: number;
}

/** The IP payload of a link-layer frame: [ethertype, offset of the IP header]. */
function ipOffset(linkType: number, frame: Buffer): [number, number] | undefined {
  switch (linkType) {
    case LINKTYPE_LINUX_SLL:
      return frame.length >= 16 ? [frame.readUInt16BE(14), 16] : undefined;
    case LINKTYPE_LINUX_SLL2:
      return frame.length >= 20 ? [frame.readUInt16BE(0), 20] : undefined;
    case LINKTYPE_ETHERNET:
      return frame.length >= 14 ? [frame.readUInt16BE(12), 14] : undefined;
    case LINKTYPE_RAW: {
      const version = (frame[0] ?? 0) >> 4;
      return [version === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 0];
    }
    default:
      return undefined;
  }
}

const ipv4 = (bytes: Buffer, at: number) => [...bytes.subarray(at, at + 4)].join('.');
const ipv6 = (bytes: Buffer, at: number) =>
  Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(at + i * 2).toString(16))
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::');

/** Reads a question name (no compression pointers occur in the question of a query or its echo). */
function readName(message: Buffer, start: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = start;
  for (let hops = 0; hops < 128; hops++) {
    const length = message[at];
    if (length === undefined) return undefined;
    if (length === 0) return { name: labels.length === 0 ? '.' : `${labels.join('.')}.`, end: at + 1 };
    if ((length & 0xc0) !== 0) return undefined;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return undefined;
}

/** One DNS message's header and first question. Undefined when it is not a well-formed DNS message. */
export function decodeDnsMessage(
  message: Buffer,
): Omit<DnsPacket, 'tsNanos' | 'src' | 'dst' | 'transport'> | undefined {
  if (message.length < 12) return undefined;
  const flags = message.readUInt16BE(2);
  if (message.readUInt16BE(4) < 1) return undefined;
  const question = readName(message, 12);
  if (!question || question.end + 4 > message.length) return undefined;
  const response = (flags & 0x8000) !== 0;
  return {
    id: message.readUInt16BE(0),
    response,
    rcode: response ? (RCODES[flags & 0x0f] ?? String(flags & 0x0f)) : undefined,
    truncated: (flags & 0x0200) !== 0,
    name: question.name,
    type: QTYPES[message.readUInt16BE(question.end)] ?? String(message.readUInt16BE(question.end)),
    answers: message.readUInt16BE(6),
  };
}

/** The DNS message in one captured frame, if it carries one to or from port 53. */
export function decodeDnsFrame(linkType: number, frame: Buffer, tsNanos: bigint): DnsPacket | undefined {
  const link = ipOffset(linkType, frame);
  if (!link) return undefined;
  const [etherType, at] = link;
  let protocol: number;
  let src: string;
  let dst: string;
  let l4: number;
  if (etherType === ETHERTYPE_IPV4 && frame.length >= at + 20) {
    protocol = frame[at + 9] ?? 0;
    src = ipv4(frame, at + 12);
    dst = ipv4(frame, at + 16);
    l4 = at + ((frame[at] ?? 0) & 0x0f) * 4;
  } else if (etherType === ETHERTYPE_IPV6 && frame.length >= at + 40) {
    protocol = frame[at + 6] ?? 0;
    src = ipv6(frame, at + 8);
    dst = ipv6(frame, at + 24);
    l4 = at + 40;
  } else return undefined;
  let payload: Buffer;
  let transport: 'udp' | 'tcp';
  if (protocol === 17 && frame.length >= l4 + 8) {
    transport = 'udp';
    payload = frame.subarray(l4 + 8);
  } else if (protocol === 6 && frame.length >= l4 + 20) {
    transport = 'tcp';
    // DNS over TCP: a two-byte length, then the message (only segments that start a message are decoded).
    payload = frame.subarray(l4 + ((frame[l4 + 12] ?? 0) >> 4) * 4 + 2);
  } else return undefined;
  const ports = [frame.readUInt16BE(l4), frame.readUInt16BE(l4 + 2)];
  if (!ports.includes(DNS_PORT)) return undefined;
  const message = decodeDnsMessage(payload);
  return message && { tsNanos, src, dst, transport, ...message };
}

/**
 * Every DNS message in a classic pcap capture that is already whole in memory (a probe's few packets), in capture
 * order, read with pcap-parser. It knows only the microsecond magic, so a nanosecond capture is handed to it with
 * that magic and its fractions are read as nanoseconds. Its source is an emitter fed synchronously, so the packets
 * are decoded before this returns. A record cut short at the end is dropped; a stream that is not pcap throws
 * PcapFormatError.
 */
export function dnsPacketsFromPcap(pcap: Buffer): DnsPacket[] {
  const header = parsePcapHeader(pcap);
  const source = Object.assign(new EventEmitter(), { pause: () => undefined, resume: () => undefined });
  const packets: DnsPacket[] = [];
  const parser = pcapParser.parse(source);
  parser.on('packet', ({ header: record, data }) => {
    const fraction = BigInt(record.timestampMicroseconds) * (header.nanos ? 1n : 1000n);
    const decoded = decodeDnsFrame(header.linkType, data, BigInt(record.timestampSeconds) * 1_000_000_000n + fraction);
    if (decoded) packets.push(decoded);
  });
  parser.on('error', () => undefined); // the magic was checked above; nothing else makes pcap-parser fail
  const asMicros = Buffer.from(pcap);
  if (header.bigEndian) asMicros.writeUInt32BE(PCAP_MAGIC_MICROS, 0);
  else asMicros.writeUInt32LE(PCAP_MAGIC_MICROS, 0);
  source.emit('data', asMicros);
  source.emit('end');
  return packets;
}
