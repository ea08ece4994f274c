// Types for pcap-parser 0.2.1 (CommonJS, ships none): only what src/pcap/stats.ts uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  export interface GlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }
  export interface PacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  export interface Packet {
    header: PacketHeader;
    data: Buffer;
  }
  export interface Parser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: GlobalHeader) => void): this;
    on(event: 'packet', listener: (packet: Packet) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }
  /** Reads a classic pcap (microsecond magic only) from a file path or a Readable in flowing mode. */
  export function parse(input: string | Readable): Parser;
  const pcapParser: { parse: typeof parse };
  export default pcapParser;
}
