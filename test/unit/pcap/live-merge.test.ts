// Three real tcpdump processes capture loopback UDP at the same time (Ethernet/us, SLL2/us, SLL/ns), their stdout
// goes through CaptureStatsTap into one PcapngMerger, their stderr summaries become ISBs: the sniff pipeline
// without a cluster. Needs root and a tcpdump (Debian's, or the static asset); skipped without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { PcapngMerger } from '../../../src/pcap/merge.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_ISB, k8sInterface } from '../../../src/pcap/pcapng.js';
import { CaptureStatsTap, parseTcpdumpStats, tcpdumpStatsToInterfaceStatistics } from '../../../src/pcap/stats.js';
import { FIXTURES, collect } from './frames.js';
import { blocks, epb, options } from './pcapng-blocks.js';

const asset = join(FIXTURES, '..', '..', '..', 'assets', 'tcpdump', 'linux-amd64', 'tcpdump');
const tcpdump =
  spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0
    ? 'tcpdump'
    : process.arch === 'x64' && existsSync(asset)
      ? asset
      : undefined;
const skip =
  tcpdump === undefined ? 'no tcpdump (apt-get install tcpdump)' : process.getuid?.() !== 0 && 'capturing needs root';

const ROUNDS = 10;

test('three live tcpdumps merge into one time-ordered pcapng with stats', { skip, timeout: 30_000 }, async () => {
  const base = 30000 + Math.floor(Math.random() * 20000);
  const specs = [
    { pod: 'a-0', args: ['-i', 'lo'], linkType: 1, nanos: false },
    { pod: 'b-0', args: ['-i', 'any', '-y', 'LINUX_SLL2'], linkType: 276, nanos: false },
    { pod: 'c-0', args: ['-i', 'any', '-y', 'LINUX_SLL', '--time-stamp-precision=nano'], linkType: 113, nanos: true },
  ];
  // --immediate-mode as the sniff engine runs it: without it libpcap holds packets up to its 1 s buffer timeout,
  // so a live input looks silent and a latenessMs below that writes its packets late (seen here with 300 ms).
  const merger = new PcapngMerger({ userAppl: 'kubectl-netdiag live-test' });
  const output = collect(merger);
  const children: ChildProcessByStdio<null, Readable, Readable>[] = [];
  const taps: CaptureStatsTap[] = [];
  const stderrs = specs.map(() => '');
  const closed: Promise<number | null>[] = [];
  try {
    for (const [k, spec] of specs.entries()) {
      const port = base + k;
      const child = spawn(
        tcpdump!,
        [
          '-n',
          '-U',
          '--immediate-mode',
          '-c',
          String(ROUNDS),
          ...spec.args,
          '-w',
          '-',
          'udp',
          'dst',
          'port',
          String(port),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => (stderrs[k] += s));
      const tap = new CaptureStatsTap({ target: spec.pod });
      taps.push(tap);
      child.stdout.pipe(tap);
      const input = merger.addInput(tap, k8sInterface({ pod: spec.pod, namespace: 'live', node: 'lo' }));
      closed.push(
        new Promise((resolve) =>
          child.once('close', (code) => {
            input.setStatistics(tcpdumpStatsToInterfaceStatistics(parseTcpdumpStats(stderrs[k]!)));
            resolve(code);
          }),
        ),
      );
    }
    for (let waited = 0; !stderrs.every((s) => s.includes('listening on')); waited += 20) {
      assert.ok(waited < 10_000, `tcpdumps started: ${stderrs.join(' | ')}`);
      await sleep(20);
    }
    const sock = createSocket('udp4');
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < specs.length; k++) {
        const msg = `live r${r} k${k}`;
        await new Promise<void>((res, rej) => sock.send(msg, base + k, '127.0.0.1', (e) => (e ? rej(e) : res())));
        await sleep(3);
      }
    }
    sock.close();
    const codes = await Promise.all(closed);
    assert.deepEqual(codes, [0, 0, 0], stderrs.join('\n'));
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  }
  merger.close();
  const file = await output;

  const bs = blocks(file);
  const idbs = bs.filter((b) => b.type === BLOCK_IDB);
  assert.equal(idbs.length, 3);
  const ifaces = idbs.map((b) => {
    const opts = options(b.body.subarray(8));
    return {
      linkType: b.body.readUInt16LE(0),
      nanos: opts.some(([c, v]) => c === 9 && v[0] === 9),
      pod: /k8s\.pod=(\S+)/.exec(opts.find(([c]) => c === 3)![1].toString())![1],
    };
  });
  for (const spec of specs) {
    const iface = ifaces.find((i) => i.pod === spec.pod)!;
    assert.equal(iface.linkType, spec.linkType, spec.pod);
    assert.equal(iface.nanos, spec.nanos, spec.pod);
  }
  const packets = bs
    .filter((b) => b.type === BLOCK_EPB)
    .map((b) => {
      const p = epb(b.body);
      const iface = ifaces[p.interfaceId]!;
      return { ts: iface.nanos ? p.tsUnits : p.tsUnits * 1000n, pod: iface.pod, text: p.data.toString('latin1') };
    });
  assert.equal(packets.length, ROUNDS * 3);
  for (let i = 1; i < packets.length; i++) assert.ok(packets[i]!.ts >= packets[i - 1]!.ts, `packet ${i} in time order`);
  packets.forEach((p, i) => {
    const r = Math.floor(i / 3);
    const k = i % 3;
    assert.ok(
      p.text.endsWith(`live r${r} k${k}`),
      `packet ${i} is the ${i}th sent: ${JSON.stringify(p.text.slice(-12))}`,
    );
    assert.equal(p.pod, specs[k]!.pod);
  });
  const isbs = bs.filter((b) => b.type === BLOCK_ISB);
  assert.equal(isbs.length, 3);
  for (const isb of isbs) {
    const delivered = options(isb.body.subarray(12))
      .find(([c]) => c === 8)?.[1]
      .readBigUInt64LE();
    assert.equal(delivered, BigInt(ROUNDS), 'isb_usrdeliv from "N packets captured"');
  }
  for (const tap of taps) {
    const s = tap.snapshot();
    assert.equal(s.packets, ROUNDS, `${s.target} live count`);
    assert.equal(s.error, undefined);
  }

  if (spawnSync('capinfos', ['-h'], { stdio: 'ignore' }).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-live-'));
    try {
      writeFileSync(join(dir, 'live.pcapng'), file);
      const info = execFileSync('capinfos', [join(dir, 'live.pcapng')], { encoding: 'utf8' });
      assert.match(
        info,
        /Number of packets:\s+30[\s\S]*Strict time order:\s+True[\s\S]*Number of interfaces in file: 3/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
