import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BLOCK_EPB,
  BLOCK_IDB,
  BLOCK_ISB,
  BLOCK_NRB,
  BLOCK_SHB,
  PcapngWriter,
  encodeNameResolution,
  ipv6Bytes,
  k8sInterface,
} from '../../../src/pcap/pcapng.js';
import { blocks, epb, nrbRecords, optionText, options } from './pcapng-blocks.js';
import { ethernet, ipv4Udp, ts } from './frames.js';

test('k8sInterface names an interface like Inspektor Gadget', () => {
  assert.deepEqual(k8sInterface({ pod: 'web-0', namespace: 'shop', container: 'app', node: 'worker1' }), {
    name: 'shop/web-0/app',
    description: 'k8s.pod=web-0 k8s.namespace=shop k8s.container=app k8s.node=worker1',
  });
  assert.deepEqual(k8sInterface({ pod: 'web-0', namespace: 'shop' }), {
    name: 'shop/web-0',
    description: 'k8s.pod=web-0 k8s.namespace=shop',
  });
});

test('SHB, IDBs, EPBs, NRB and ISB carry what was given', () => {
  const w = new PcapngWriter();
  const frame = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1000, 53, Buffer.from('abc')));
  const parts = [
    w.sectionHeader({ userAppl: 'kubectl-netdiag 1.2.3' }),
    w.addInterface({
      linkType: 276,
      snaplen: 262144,
      nanos: true,
      ...k8sInterface({ pod: 'a', namespace: 'n', node: 'w1' }),
    }).block,
    w.addInterface({ linkType: 1, snaplen: 1500, nanos: false, name: 'plain' }).block,
    w.names([
      { ip: '10.0.0.1', name: 'a.n' },
      { ip: '10.96.0.10', name: 'kube-dns.kube-system' },
      { ip: 'fd00::1:2', name: 'a6.n' },
    ])!,
    w.packet(0, { tsNanos: ts(1_700_000_000, 123_456_789), origLen: frame.length, data: frame }),
    w.packet(1, { tsNanos: ts(1_700_000_001, 987_654_321), origLen: 9000, data: frame }),
    w.statistics(0, { tsNanos: ts(1_700_000_002), ifRecv: 10, ifDrop: 2, userDelivered: 8 }),
  ];
  const bs = blocks(Buffer.concat(parts));
  assert.deepEqual(
    bs.map((b) => b.type),
    [BLOCK_SHB, BLOCK_IDB, BLOCK_IDB, BLOCK_NRB, BLOCK_EPB, BLOCK_EPB, BLOCK_ISB],
  );
  const shb = bs[0]!.body;
  assert.equal(shb.readUInt32LE(0), 0x1a2b3c4d);
  assert.equal(shb.readUInt16LE(4), 1);
  assert.equal(shb.readBigInt64LE(8), -1n);
  assert.equal(optionText(options(shb.subarray(16)), 4), 'kubectl-netdiag 1.2.3');

  const idb0 = bs[1]!.body;
  assert.equal(idb0.readUInt16LE(0), 276);
  assert.equal(idb0.readUInt32LE(4), 262144);
  const o0 = options(idb0.subarray(8));
  assert.equal(optionText(o0, 2), 'n/a');
  assert.equal(optionText(o0, 3), 'k8s.pod=a k8s.namespace=n k8s.node=w1');
  assert.deepEqual(o0.find(([c]) => c === 9)?.[1], Buffer.from([9]));
  const o1 = options(bs[2]!.body.subarray(8));
  assert.equal(
    o1.find(([c]) => c === 9),
    undefined,
    'microsecond interface keeps the default resolution',
  );

  assert.deepEqual(nrbRecords(bs[3]!.body), [
    [1, Buffer.from([10, 0, 0, 1]), ['a.n']],
    [1, Buffer.from([10, 96, 0, 10]), ['kube-dns.kube-system']],
    [2, Buffer.from('fd000000000000000000000000010002', 'hex'), ['a6.n']],
  ]);

  const p0 = epb(bs[4]!.body);
  assert.equal(p0.interfaceId, 0);
  assert.equal(p0.tsUnits, 1_700_000_000_123_456_789n, 'ns interface: nanoseconds');
  assert.ok(p0.data.equals(frame));
  const p1 = epb(bs[5]!.body);
  assert.equal(p1.interfaceId, 1);
  assert.equal(p1.tsUnits, 1_700_000_001_987_654n, 'us interface: microseconds');
  assert.equal(p1.origLen, 9000);
  assert.equal(p1.capLen, frame.length);

  const isb = bs[6]!.body;
  assert.equal(isb.readUInt32LE(0), 0);
  const io = options(isb.subarray(12));
  assert.equal(io.find(([c]) => c === 4)?.[1].readBigUInt64LE(), 10n);
  assert.equal(io.find(([c]) => c === 5)?.[1].readBigUInt64LE(), 2n);
  assert.equal(io.find(([c]) => c === 8)?.[1].readBigUInt64LE(), 8n);
  assert.equal(
    io.find(([c]) => c === 6),
    undefined,
    'unknown counters are left out',
  );
});

test('names() writes only names not written before', () => {
  const w = new PcapngWriter();
  assert.ok(w.names([{ ip: '10.0.0.1', name: 'a.n' }]));
  assert.equal(w.names([{ ip: '10.0.0.1', name: 'a.n' }]), undefined);
  const again = w.names([
    { ip: '10.0.0.1', name: 'a.n' },
    { ip: '10.0.0.2', name: 'b.n' },
  ])!;
  assert.deepEqual(nrbRecords(blocks(again)[0]!.body), [[1, Buffer.from([10, 0, 0, 2]), ['b.n']]]);
});

test('several names of one address share one NRB record', () => {
  const recs = nrbRecords(
    blocks(
      encodeNameResolution([
        { ip: '10.0.0.9', name: 'web.shop' },
        { ip: '10.0.0.9', name: 'web-svc.shop' },
      ]),
    )[0]!.body,
  );
  assert.deepEqual(recs, [[1, Buffer.from([10, 0, 0, 9]), ['web.shop', 'web-svc.shop']]]);
});

test('ipv6Bytes expands :: and embedded IPv4', () => {
  assert.equal(ipv6Bytes('::1').toString('hex'), '00000000000000000000000000000001');
  assert.equal(ipv6Bytes('2001:db8::').toString('hex'), '20010db8000000000000000000000000');
  assert.equal(ipv6Bytes('::ffff:10.1.2.3').toString('hex'), '00000000000000000000ffff0a010203');
  assert.equal(ipv6Bytes('fe80::1%eth0').toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(ipv6Bytes('1:2:3:4:5:6:7:8').toString('hex'), '00010002000300040005000600070008');
  assert.throws(() => encodeNameResolution([{ ip: 'not-an-ip', name: 'x' }]), RangeError);
});

test('a packet for an interface never added is refused', () => {
  const w = new PcapngWriter();
  assert.throws(() => w.packet(0, { tsNanos: 1n, origLen: 1, data: Buffer.alloc(1) }), RangeError);
});
