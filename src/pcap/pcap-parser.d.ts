// Types for pcap-parser 0.2.1 (CommonJS, ships none): only what src/dns/wire.ts uses.
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
  /** What the parser really needs of its input: 'data', 'error' and 'end' events, and pause()/resume(). */
  export interface Source extends EventEmitter {
    pause(): unknown;
    resume(): unknown;
  }
  /**
   * Reads a classic pcap (microsecond magic only) from a file path or a source it resumes on the next tick; packets
   * are emitted synchronously from inside each 'data' event.
   */
  export function parse(input: string | Readable | Source): Parser;
  const pcapParser: { parse: typeof parse };
  export default pcapParser;
}
