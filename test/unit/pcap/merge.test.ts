import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PcapngMerger, type MergedInput } from '../../../src/pcap/merge.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_ISB, BLOCK_NRB, BLOCK_SHB } from '../../../src/pcap/pcapng.js';
import { chunked, classicPcap, collect, ethernet, ipv4Udp, sll, sll2, ts, type TestPacket } from './frames.js';
import { blocks, epb, nrbRecords, options } from './pcapng-blocks.js';

const udp = (i: number, tag: string): Buffer =>
  ipv4Udp(`10.0.0.${1 + (i % 3)}`, '10.0.0.9', 5000 + i, 53, Buffer.from(`${tag}-${i}`));

/** Three inputs with interleaved timestamps: A at 0,3,6.. B at 1,4,7.. C at 2,5,8.. (milliseconds apart). */
function threeInputs(n: number): { files: Buffer[]; expected: { tag: string; i: number; tsNanos: bigint }[] } {
  const base = ts(1_700_000_000);
  const make = (k: number, tag: string, wrap: (b: Buffer) => Buffer, nanos: boolean): TestPacket[] =>
    Array.from({ length: n }, (_, j) => {
      const i = j * 3 + k;
      // microsecond inputs get whole microseconds; the ns input adds sub-microsecond digits
      return { tsNanos: base + BigInt(i) * 1_000_000n + (nanos ? 777n : 0n), data: wrap(udp(i, tag)) };
    });
  const a = make(0, 'A', ethernet, false);
  const b = make(1, 'B', sll, false);
  const c = make(2, 'C', sll2, true);
  const files = [
    classicPcap({ linkType: 1 }, a),
    classicPcap({ linkType: 113, bigEndian: true }, b),
    classicPcap({ linkType: 276, nanos: true }, c),
  ];
  const expected = Array.from({ length: 3 * n }, (_, i) => ({
    tag: 'ABC'[i % 3]!,
    i,
    tsNanos: base + BigInt(i) * 1_000_000n + (i % 3 === 2 ? 777n : 0n),
  }));
  return { files, expected };
}

interface Decoded {
  interfaces: { linkType: number; nanos: boolean; name: string }[];
  packets: { interfaceId: number; tsNanos: bigint; data: Buffer }[];
  types: number[];
  bodies: Buffer[];
}

function decode(file: Buffer): Decoded {
  const bs = blocks(file);
  const interfaces: Decoded['interfaces'] = [];
  const packets: Decoded['packets'] = [];
  for (const b of bs) {
    if (b.type === BLOCK_IDB) {
      const opts = options(b.body.subarray(8));
      interfaces.push({
        linkType: b.body.readUInt16LE(0),
        nanos: opts.some(([c, v]) => c === 9 && v[0] === 9),
        name: opts.find(([c]) => c === 2)![1].toString(),
      });
    } else if (b.type === BLOCK_EPB) {
      const p = epb(b.body);
      const iface = interfaces[p.interfaceId];
      assert.ok(iface, `EPB refers to interface ${p.interfaceId} defined before it`);
      packets.push({ interfaceId: p.interfaceId, tsNanos: iface.nanos ? p.tsUnits : p.tsUnits * 1000n, data: p.data });
    }
  }
  return { interfaces, packets, types: bs.map((b) => b.type), bodies: bs.map((b) => b.body) };
}

/** Polls `cond` (load on a shared 2-core machine makes fixed sleeps flaky). */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for: ${what}`);
    await sleep(5);
  }
}

const payloadTag = (data: Buffer): string => /([ABC])-(\d+)$/.exec(data.toString('latin1'))![0];

test('three inputs with interleaved timestamps come out in timestamp order', async () => {
  const { files, expected } = threeInputs(40);
  const merger = new PcapngMerger({ userAppl: 'kubectl-netdiag test' });
  const inputs = files.map((f, k) => merger.addInput(chunked(f, [13, 1, 200, 64]), { name: `in-${'ABC'[k]}` }));
  merger.close();
  const out = decode(await collect(merger));
  assert.equal(out.types[0], BLOCK_SHB);
  assert.equal(out.interfaces.length, 3);
  assert.deepEqual(out.interfaces.map((i) => i.name).sort(), ['in-A', 'in-B', 'in-C']);
  const byName = new Map(out.interfaces.map((i) => [i.name, i]));
  assert.equal(byName.get('in-A')!.linkType, 1);
  assert.equal(byName.get('in-B')!.linkType, 113);
  assert.equal(byName.get('in-C')!.linkType, 276);
  assert.equal(byName.get('in-C')!.nanos, true);
  assert.equal(byName.get('in-A')!.nanos, false);
  assert.deepEqual(
    out.packets.map((p) => payloadTag(p.data)),
    expected.map((e) => `${e.tag}-${e.i}`),
  );
  assert.deepEqual(
    out.packets.map((p) => p.tsNanos),
    expected.map((e) => e.tsNanos),
  );
  for (const p of out.packets) {
    const name = out.interfaces[p.interfaceId]!.name;
    assert.equal(name.at(-1), payloadTag(p.data)[0], 'each packet is attributed to its own interface');
  }
  for (const input of inputs) {
    assert.equal(input.stats.packets, 40);
    assert.equal(input.stats.outOfOrder, 0);
    assert.equal(input.stats.done, true);
    assert.deepEqual(input.stats.ending, { truncatedBytes: 0, headerMissing: false });
  }
});

test('the watermark holds a packet until every open input has one', async () => {
  const a = new PassThrough();
  const b = new PassThrough();
  const merger = new PcapngMerger({ userAppl: 't', latenessMs: Infinity });
  merger.addInput(a, { name: 'a' });
  merger.addInput(b, { name: 'b' });
  merger.close();
  const seen: Buffer[] = [];
  merger.on('data', (c: Buffer) => seen.push(c));
  const pkt = (t: number, tag: string): TestPacket => ({ tsNanos: ts(100, t), data: ethernet(udp(t, tag)) });
  const fa = classicPcap({ linkType: 1 }, [pkt(10_000, 'A'), pkt(30_000, 'A')]);
  a.write(fa);
  await sleep(30);
  assert.equal(decode(Buffer.concat(seen)).packets.length, 0, 'A waits: B is open and empty');
  b.write(classicPcap({ linkType: 1 }, [pkt(20_000, 'B')]));
  await sleep(30);
  assert.deepEqual(
    decode(Buffer.concat(seen)).packets.map((p) => payloadTag(p.data)),
    ['A-10000', 'B-20000'],
    'A@30us still waits for B',
  );
  b.end();
  a.end();
  await new Promise((r) => merger.once('end', r));
  assert.deepEqual(
    decode(Buffer.concat(seen)).packets.map((p) => payloadTag(p.data)),
    ['A-10000', 'B-20000', 'A-30000'],
  );
});

test('an idle input does not stall the output beyond the lateness bound', async () => {
  const busy = new PassThrough();
  const idle = new PassThrough(); // a pod that never sends a byte
  const merger = new PcapngMerger({ userAppl: 't', latenessMs: 80 });
  merger.addInput(busy, { name: 'busy' });
  const idleInput = merger.addInput(idle, { name: 'idle' });
  const seen: Buffer[] = [];
  merger.on('data', (c: Buffer) => seen.push(c));
  const started = Date.now();
  busy.write(classicPcap({ linkType: 1 }, [{ tsNanos: ts(5), data: ethernet(udp(1, 'A')) }]));
  while (decode(Buffer.concat(seen)).packets.length === 0) {
    assert.ok(Date.now() - started < 2000, 'packet emitted within 2 s');
    await sleep(5);
  }
  const waited = Date.now() - started;
  assert.ok(waited >= 75, `held for the lateness bound first (${waited} ms)`);
  assert.equal(idleInput.stats.interfaceId, undefined);
  busy.end();
  idle.end();
  merger.close();
  await new Promise((r) => merger.once('end', r));
  const out = decode(Buffer.concat(seen));
  assert.equal(out.interfaces.length, 1, 'an input that sent nothing gets no interface');
  assert.equal(idleInput.stats.ending?.headerMissing, true);
});

test('buffering stays within the cap while the output is paused, then everything flows', async () => {
  const cap = 4;
  const { files } = threeInputs(200);
  const sources = files.map((f) => chunked(f, [40]));
  const merger = new PcapngMerger({ userAppl: 't', maxBufferedPerInput: cap, latenessMs: 10, highWaterMark: 1024 });
  const inputs = sources.map((s, k) => merger.addInput(s, { name: `in${k}` }));
  merger.close();
  // Nobody reads the merger: after the first 1 KiB, inputs must fill to the cap and their sources pause.
  await until(() => inputs.every((i) => i.stats.buffered === cap), 'every input filled to the cap');
  await sleep(50); // and stay there
  for (const [k, input] of inputs.entries()) {
    assert.ok(input.stats.maxBuffered <= cap, `input ${k} buffered ${input.stats.maxBuffered} > ${cap}`);
    assert.equal(sources[k]!.readableEnded, false, `source ${k} was paused, not drained`);
    assert.ok(sources[k]!.isPaused(), `source ${k} is paused`);
  }
  let maxSeen = 0;
  const sink = new Writable({
    highWaterMark: 256,
    write(chunk: Buffer, _e, cb) {
      maxSeen = Math.max(maxSeen, ...inputs.map((i) => i.stats.buffered));
      parts.push(chunk);
      setImmediate(cb); // a slow consumer
    },
  });
  const parts: Buffer[] = [];
  await pipeline(merger, sink);
  assert.ok(maxSeen <= cap, `buffered ${maxSeen} while flowing`);
  for (const input of inputs) {
    assert.ok(input.stats.maxBuffered <= cap);
    assert.equal(input.stats.packets, 200);
  }
  const out = decode(Buffer.concat(parts));
  assert.equal(out.packets.length, 600);
  for (const tag of ['A', 'B', 'C']) {
    const own = out.packets.map((p) => payloadTag(p.data)).filter((t) => t[0] === tag);
    assert.equal(own.length, 200);
    const nums = own.map((t) => Number(t.slice(2)));
    assert.deepEqual(
      nums,
      [...nums].sort((x, y) => x - y),
      `${tag} keeps its own order`,
    );
  }
});

test('the byte cap bounds buffering of large packets too', async () => {
  const big = Array.from({ length: 50 }, (_, i) => ({ tsNanos: ts(1, i), data: Buffer.alloc(10_000, i) }));
  const src = chunked(classicPcap({ linkType: 1 }, big), [65536]);
  const idle = new PassThrough();
  const merger = new PcapngMerger({
    userAppl: 't',
    maxBufferedBytesPerInput: 30_000,
    latenessMs: Infinity,
    fullGraceMs: 20,
  });
  const input = merger.addInput(src, { name: 'big' });
  merger.addInput(idle, { name: 'idle' });
  merger.resume();
  await until(() => input.stats.packets > 0, 'output despite the silent input');
  assert.ok(input.stats.maxBuffered <= 3, `held ${input.stats.maxBuffered} packets of 10 kB under a 30 kB cap`);
  assert.ok(input.stats.packets > 0, 'a full buffer stops waiting for a silent input after fullGraceMs');
  idle.end();
  merger.close();
  await new Promise((r) => merger.once('end', r));
  assert.equal(input.stats.packets, 50);
});

test('truncated and broken inputs: the merge goes on and reports them', async () => {
  const good = classicPcap(
    { linkType: 1 },
    [1, 2, 3].map((i) => ({ tsNanos: ts(10, i * 1000), data: ethernet(udp(i, 'A')) })),
  );
  const cut = good.subarray(0, good.length - 5);
  const errors: [MergedInput, Error][] = [];
  const merger = new PcapngMerger({ userAppl: 't', onInputError: (i, e) => errors.push([i, e]) });
  const truncated = merger.addInput(chunked(cut), { name: 'cut' });
  const garbage = merger.addInput(Readable.from([Buffer.from('tcpdump: eth9: No such device exists\n')]), {
    name: 'bad',
  });
  const empty = merger.addInput(Readable.from([]), { name: 'empty' });
  const gone = new PassThrough();
  gone.destroy();
  const destroyedEarly = merger.addInput(gone, { name: 'destroyed before it was added' });
  merger.close();
  const out = decode(await collect(merger));
  assert.equal(out.packets.length, 2);
  assert.equal(truncated.stats.ending?.truncatedBytes, 16 + ethernet(udp(3, 'A')).length - 5);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]![0], garbage);
  assert.match(errors[0]![1].message, /magic/);
  assert.equal(garbage.stats.done, true);
  assert.equal(empty.stats.ending?.headerMissing, true);
  assert.equal(destroyedEarly.stats.done, true);
  assert.equal(out.interfaces.length, 1);
});

test('names become NRBs (new ones only) and statistics become ISBs at the end', async () => {
  const a = new PassThrough();
  const merger = new PcapngMerger({ userAppl: 't' });
  merger.addNames([{ ip: '10.0.0.1', name: 'web-0.shop' }]);
  const input = merger.addInput(a, { name: 'a' });
  const parts: Buffer[] = [];
  merger.on('data', (c: Buffer) => parts.push(c));
  a.write(classicPcap({ linkType: 1 }, [{ tsNanos: ts(7), data: ethernet(udp(0, 'A')) }]));
  await sleep(10);
  merger.addNames([
    { ip: '10.0.0.1', name: 'web-0.shop' },
    { ip: '10.96.0.1', name: 'kubernetes.default' },
  ]);
  merger.addNames([{ ip: '10.96.0.1', name: 'kubernetes.default' }]);
  a.end();
  input.setStatistics({ ifRecv: 12, ifDrop: 1, userDelivered: 11 });
  merger.close();
  await new Promise((r) => merger.once('end', r));
  const out = decode(Buffer.concat(parts));
  assert.deepEqual(out.types, [BLOCK_SHB, BLOCK_NRB, BLOCK_IDB, BLOCK_EPB, BLOCK_NRB, BLOCK_ISB]);
  assert.deepEqual(
    nrbRecords(out.bodies[4]!).map(([, , names]) => names),
    [['kubernetes.default']],
  );
  const isb = out.bodies[5]!;
  const opts = options(isb.subarray(12));
  const n = (code: number): bigint | undefined => opts.find(([c]) => c === code)?.[1].readBigUInt64LE();
  assert.equal(n(4), 12n);
  assert.equal(n(5), 1n);
  assert.equal(n(8), 11n);
  const start = opts.find(([c]) => c === 2)![1];
  const startUnits = (BigInt(start.readUInt32LE(0)) << 32n) | BigInt(start.readUInt32LE(4));
  assert.equal(startUnits, 7_000_000n, 'isb_starttime is the first packet, EPB timestamp layout in us units');
});

test('inputs can join while the merge runs; output ends after close and the last input', async () => {
  const merger = new PcapngMerger({ userAppl: 't', latenessMs: 20 });
  const parts: Buffer[] = [];
  merger.on('data', (c: Buffer) => parts.push(c));
  merger.addInput(Readable.from([classicPcap({ linkType: 1 }, [{ tsNanos: ts(1), data: ethernet(udp(0, 'A')) }])]), {
    name: 'first',
  });
  await sleep(30);
  const late = new PassThrough();
  merger.addInput(late, { name: 'late' });
  late.end(classicPcap({ linkType: 1 }, [{ tsNanos: ts(2), data: ethernet(udp(1, 'B')) }]));
  let ended = false;
  merger.once('end', () => (ended = true));
  await sleep(30);
  assert.equal(ended, false, 'not closed yet');
  merger.close();
  await sleep(10);
  assert.equal(ended, true);
  assert.throws(() => merger.addInput(new PassThrough(), { name: 'x' }), /after close/);
  assert.deepEqual(
    decode(Buffer.concat(parts)).packets.map((p) => payloadTag(p.data)),
    ['A-0', 'B-1'],
  );
});

test('a full input does not run ahead of inputs that are still delivering (no starvation)', async () => {
  // Every source delivers 64 KiB chunks (~560 packets) as fast as it can: a full input must wait for the
  // others' next chunk instead of being drained past them.
  const { files, expected } = threeInputs(3000);
  const merger = new PcapngMerger({ userAppl: 't', maxBufferedPerInput: 64 });
  const inputs = files.map((f, k) => merger.addInput(chunked(f, [65536]), { name: `in${k}` }));
  merger.close();
  const out = decode(await collect(merger));
  assert.equal(out.packets.length, expected.length);
  for (const input of inputs) {
    assert.equal(input.stats.outOfOrder, 0);
    assert.ok(input.stats.maxBuffered <= 64);
  }
  assert.deepEqual(
    out.packets.map((p) => p.tsNanos),
    expected.map((e) => e.tsNanos),
  );
});
