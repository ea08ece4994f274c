// Wireshark's own readers judge the pcapng we write. Needs Debian's `tshark` (and `wireshark-common` for
// capinfos); skipped, with the reason, only when they are not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PcapngMerger } from '../../../src/pcap/merge.js';
import { k8sInterface } from '../../../src/pcap/pcapng.js';
import { FIXTURES, chunked, classicPcap, collect, ethernet, ipv4Udp, sll, sll2, ts } from './frames.js';

const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = ['tshark', 'capinfos'].filter((c) => !have(c));
const skip = missing.length > 0 && `${missing.join(', ')} not installed (apt-get install tshark)`;

const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-pcap-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tshark and capinfos read a merged pcapng: 3 interfaces, NRB names, time order, stats', { skip }, async () => {
  const pods = ['web-0', 'web-1', 'web-2'];
  const make = (k: number, wrap: (b: Buffer) => Buffer, nanos: boolean): { tsNanos: bigint; data: Buffer }[] =>
    Array.from({ length: 5 }, (_, j) => {
      const i = j * 3 + k;
      const src = `10.244.${k + 1}.7`;
      return {
        tsNanos: ts(1_700_000_000, i * 1_000_000 + (nanos ? 321 : 0)),
        data: wrap(ipv4Udp(src, '10.96.0.10', 40000 + i, 53, Buffer.from(`query-${i}`))),
      };
    });
  const merger = new PcapngMerger({ userAppl: 'kubectl-netdiag 0.1.0-test' });
  merger.addNames([
    ...pods.map((p, k) => ({ ip: `10.244.${k + 1}.7`, name: `${p}.shop` })),
    { ip: '10.96.0.10', name: 'kube-dns.kube-system' },
  ]);
  const files = [
    classicPcap({ linkType: 1 }, make(0, ethernet, false)),
    classicPcap({ linkType: 113, bigEndian: true }, make(1, sll, false)),
    classicPcap({ linkType: 276, nanos: true }, make(2, sll2, true)),
  ];
  const inputs = files.map((f, k) =>
    merger.addInput(
      chunked(f),
      k8sInterface({ pod: pods[k]!, namespace: 'shop', container: 'app', node: `worker${k + 1}` }),
    ),
  );
  inputs[2]!.setStatistics({ ifRecv: 7, ifDrop: 2, userDelivered: 5 });
  merger.close();
  const bytes = await collect(merger);

  withTemp((dir) => {
    const file = join(dir, 'merged.pcapng');
    writeFileSync(file, bytes);
    const info = run('capinfos', [file]);
    assert.match(info, /File type:\s+Wireshark\/\.\.\. - pcapng/);
    assert.match(info, /Number of packets:\s+15/);
    assert.match(info, /Number of interfaces in file: 3/);
    assert.match(info, /Strict time order:\s+True/);
    assert.match(info, /Capture application:\s+kubectl-netdiag 0\.1\.0-test/);
    assert.match(info, /Description = k8s\.pod=web-2 k8s\.namespace=shop k8s\.container=app k8s\.node=worker3/);
    assert.match(info, /Encapsulation = Linux cooked-mode capture v2/);
    assert.match(info, /Time precision = nanoseconds \(9\)/);
    assert.match(info, /Number of resolved IPv4 addresses in file: 4/);
    assert.match(info, /Number of stat entries = 1/);

    // -N n turns on network-address resolution, which uses the file's NRB; no external resolver is asked.
    const fields = run('tshark', [
      '-r',
      file,
      '-N',
      'n',
      '-o',
      'nameres.use_external_name_resolver:FALSE',
      '-T',
      'fields',
      '-E',
      'separator=|',
      '-e',
      'frame.interface_id',
      '-e',
      'frame.interface_name',
      '-e',
      'frame.time_epoch',
      '-e',
      'ip.src_host',
      '-e',
      'ip.dst_host',
      '-e',
      'udp.srcport',
    ]);
    const rows = fields
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    assert.equal(rows.length, 15);
    rows.forEach((r, i) => {
      const k = i % 3;
      assert.equal(r[1], `shop/${pods[k]}/app`, `row ${i} interface`);
      assert.equal(r[3], `${pods[k]}.shop`, `row ${i} source named from the NRB`);
      assert.equal(r[4], 'kube-dns.kube-system');
      assert.equal(r[5], String(40000 + i), `row ${i} is packet ${i}: merged in time order`);
    });
    const times = rows.map((r) => r[2]!);
    assert.equal(times[2], '1700000000.002000321', 'nanoseconds survive');
    assert.deepEqual([...times].sort(), times);
    const ids = new Set(rows.map((r) => r[0]));
    assert.equal(ids.size, 3);

    // without -N the addresses stay numeric: the names above come from our NRB, not from anywhere else
    const plain = run('tshark', ['-r', file, '-n', '-T', 'fields', '-e', 'ip.src_host', '-c', '1']).trim();
    assert.equal(plain, '10.244.1.7');
  });
});

test('tshark reads a merge of real tcpdump captures (Ethernet, SLL, SLL2 ns)', { skip }, async () => {
  const merger = new PcapngMerger({ userAppl: 'kubectl-netdiag test' });
  for (const name of ['lo-ethernet-us.pcap', 'any-sll-us.pcap', 'any-sll2-ns.pcap']) {
    merger.addInput(Readable.from([readFileSync(join(FIXTURES, name))]), { name });
  }
  merger.close();
  const bytes = await collect(merger);
  withTemp((dir) => {
    const file = join(dir, 'real.pcapng');
    writeFileSync(file, bytes);
    assert.match(run('capinfos', [file]), /Number of packets:\s+18[\s\S]*Strict time order:\s+True/);
    const lines = run('tshark', [
      '-r',
      file,
      '-n',
      '-T',
      'fields',
      '-e',
      'frame.interface_name',
      '-e',
      'data.text',
      '-o',
      'data.show_as_text:TRUE',
    ])
      .trim()
      .split('\n');
    assert.equal(lines.length, 18);
    assert.match(lines[0]!, /^lo-ethernet-us\.pcap\tnetdiag lo-ethernet-us\.pcap 1\\n$/);
  });
});
