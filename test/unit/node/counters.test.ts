import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  countersArgv,
  describeCountersDiff,
  diffCounters,
  parseCounters,
  parseIptablesSave,
  parseNftJson,
  parseNicStatistics,
  parseQdiscJson,
  udpReceiveBufferErrors,
  type CounterSnapshot,
} from '../../../src/node/counters.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../test/fixtures/node/${name}`, import.meta.url), 'utf8');

describe('parseCounters (real output, test/fixtures/node/README.md)', () => {
  const before = parseCounters(fixture('counters-before.txt'));
  const after = parseCounters(fixture('counters-after.txt'));

  it('reads every interface with its MTU and statistics', () => {
    assert.deepEqual(
      before.interfaces.map((entry) => [entry.name, entry.mtu]),
      [
        ['lo', 65536],
        ['va', 1500],
      ],
    );
    const va = after.interfaces.find((entry) => entry.name === 'va');
    assert.equal(va?.statistics['tx_dropped'], 5);
    assert.equal(va?.statistics['rx_packets'], 36);
    assert.equal(Object.keys(va?.statistics ?? {}).length, 24);
  });

  it('reads rules of every backend once: iptables-nft tables are not read again from nft -j', () => {
    assert.deepEqual([...before.backends].sort(), ['iptables-legacy', 'iptables-nft', 'nftables']);
    const drops = after.rules
      .filter((rule) => rule.verdict === 'DROP' || rule.verdict === 'REJECT')
      .map((rule) => `${rule.backend} ${rule.family} ${rule.table} ${rule.chain} ${rule.packets}`);
    assert.deepEqual(drops, [
      'iptables-legacy ipv4 raw PREROUTING 0',
      'iptables-nft ipv4 mangle PREROUTING 8',
      'iptables-nft ipv4 filter FORWARD 0',
      'iptables-nft ipv4 filter INPUT 3',
      'iptables-nft ipv6 filter INPUT 0',
      'nftables inet netdiagtest input 3',
    ]);
  });

  it('diff: the drop rules that counted and the NIC counter that moved, not the traffic counters', () => {
    const diff = diffCounters(before, after);
    assert.deepEqual(
      diff.nicErrors.map((change) => [change.interface, change.counter, change.delta]),
      [['va', 'tx_dropped', 5]],
    );
    assert.deepEqual(
      diff.droppingRules.map(({ rule, packets }) => [rule.backend, rule.table, rule.verdict, packets]),
      [
        ['iptables-nft', 'mangle', 'DROP', 8],
        ['iptables-nft', 'filter', 'REJECT', 3],
        ['nftables', 'netdiagtest', 'DROP', 3],
      ],
    );
    const text = describeCountersDiff(diff);
    assert.match(text, /^va tx_dropped \+5 \(now 5\)$/m);
    assert.match(text, /statistic --mode random .* -j DROP counted \+8 packets/);
  });

  it('diff of a snapshot with itself: nothing moved', () => {
    assert.deepEqual(diffCounters(after, after), { nicErrors: [], droppingRules: [], shapers: [] });
  });
});

describe('counter parsers: edge cases', () => {
  it('a chain policy DROP that counted is a dropping rule; user chains (policy -) are not rules', () => {
    const save = (packets: number) =>
      `*filter\n:INPUT DROP [${packets}:${packets * 60}]\n:KUBE-FIREWALL - [0:0]\n[0:0] -A INPUT -j KUBE-FIREWALL\nCOMMIT\n`;
    const parsed = parseIptablesSave(save(2), 'iptables-legacy', 'ipv4');
    assert.deepEqual(
      parsed.rules.map((rule) => [rule.chain, rule.rule, rule.verdict]),
      [
        ['INPUT', 'policy DROP', 'DROP'],
        ['INPUT', '-A INPUT -j KUBE-FIREWALL', 'KUBE-FIREWALL'],
      ],
    );
    const snapshot = (packets: number) => ({
      interfaces: [],
      backends: [],
      qdiscs: [],
      rules: parseIptablesSave(save(packets), 'iptables-legacy', 'ipv4').rules,
    });
    assert.deepEqual(
      diffCounters(snapshot(2), snapshot(9)).droppingRules.map((change) => [change.rule.rule, change.packets]),
      [['policy DROP', 7]],
    );
  });

  it('identical rules in one chain are told apart by position', () => {
    const save = (a: number, b: number) =>
      `*filter\n[${a}:0] -A INPUT -p tcp -j DROP\n[${b}:0] -A INPUT -p tcp -j DROP\nCOMMIT\n`;
    const snapshot = (a: number, b: number) => ({
      interfaces: [],
      backends: [],
      qdiscs: [],
      rules: parseIptablesSave(save(a, b), 'iptables-nft', 'ipv4').rules,
    });
    assert.deepEqual(
      diffCounters(snapshot(1, 1), snapshot(1, 4)).droppingRules.map((change) => change.packets),
      [3],
    );
  });

  it('the last -j is the verdict; -g counts as a jump', () => {
    const rules = parseIptablesSave(
      '*nat\n[1:2] -A PREROUTING -m comment --comment "x" -j MARK --set-xmark 0x4000/0x4000\n[0:0] -A OUTPUT -g KUBE-SVC\n',
      'iptables-nft',
      'ipv4',
    ).rules;
    assert.deepEqual(
      rules.map((rule) => rule.verdict),
      ['MARK', 'KUBE-SVC'],
    );
  });

  it('interfaces that appear or vanish and counters that reset are not movements', () => {
    const nic = (name: string, errors: number) =>
      parseNicStatistics(
        `/sys/class/net/${name}/mtu:1500\n/sys/class/net/${name}/statistics/rx_crc_errors:${errors}\n`,
      );
    const snapshot = (interfaces: ReturnType<typeof nic>) => ({ interfaces, rules: [], backends: [], qdiscs: [] });
    assert.deepEqual(diffCounters(snapshot(nic('eth0', 5)), snapshot(nic('eth0', 2))).nicErrors, []);
    assert.deepEqual(diffCounters(snapshot(nic('veth1', 0)), snapshot(nic('veth2', 9))).nicErrors, []);
    assert.deepEqual(
      diffCounters(snapshot(nic('eth0', 5)), snapshot(nic('eth0', 12))).nicErrors.map((change) => change.delta),
      [7],
    );
  });

  it('nft -j: no output, garbage and rules without a counter give no rules', () => {
    assert.deepEqual(parseNftJson(''), []);
    assert.deepEqual(parseNftJson('nft: command not found'), []);
    assert.deepEqual(
      parseNftJson(
        '{"nftables":[{"rule":{"family":"inet","table":"t","chain":"c","handle":1,"expr":[{"drop":null}]}}]}',
      ),
      [],
    );
  });

  it('output without any section (a shell that failed) is an empty snapshot', () => {
    assert.deepEqual(parseCounters('sh: 1: grep: not found\n'), {
      interfaces: [],
      rules: [],
      backends: [],
      qdiscs: [],
    });
  });

  it('runs the fixed script through sh -c', () => {
    const argv = countersArgv();
    assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
    assert.match(argv[2] ?? '', /iptables-nft-save -c/);
  });
});

describe('udpReceiveBufferErrors', () => {
  const snmp = fixture('snmp.txt');
  it("reads the Udp line's RcvbufErrors, not UdpLite's", () => {
    assert.equal(udpReceiveBufferErrors(snmp), 0);
    const overflowed = snmp
      .split('\n')
      .map((line) =>
        /^Udp: \d/.test(line) ? line.replace(/^Udp: (\d+) (\d+) (\d+) (\d+) (\d+)/, 'Udp: $1 $2 12823 $4 12823') : line,
      )
      .join('\n');
    assert.equal(udpReceiveBufferErrors(overflowed), 12823);
  });
  it('nothing to read: undefined', () => {
    assert.equal(udpReceiveBufferErrors(''), undefined);
    assert.equal(udpReceiveBufferErrors('Udp: InDatagrams NoPorts\nUdp: 1 2\n'), undefined);
  });
});

describe('qdiscs (real tc -s -j qdisc show, test/fixtures/node/README.md)', () => {
  const before = parseQdiscJson(fixture('qdisc-worker2-before.json'));
  const after = parseQdiscJson(fixture('qdisc-worker2-after.json'));
  const snapshot = (qdiscs: CounterSnapshot['qdiscs']): CounterSnapshot => ({
    interfaces: [],
    rules: [],
    backends: [],
    qdiscs,
  });

  it("reads tbf's rate (bytes/s in tc's JSON) as bits/s; qdiscs without one have none", () => {
    assert.deepEqual(
      before.map((qdisc) => [qdisc.device, qdisc.kind, qdisc.root, qdisc.rateBitsPerSecond]),
      [
        ['lo', 'noqueue', true, undefined],
        ['eth0', 'tbf', true, 100e6],
        ['cni0', 'noqueue', true, undefined],
        ['veth28af843e', 'noqueue', true, undefined],
      ],
    );
    const scratch = parseQdiscJson(fixture('qdisc-scratch.json'));
    assert.deepEqual(
      scratch.map((qdisc) => [qdisc.device, qdisc.kind, qdisc.rateBitsPerSecond]),
      [
        ['d0', 'noqueue', undefined],
        ['e1', 'tbf', 1e9],
        ['d1', 'htb', undefined],
      ],
    );
  });

  it('the COUNTERS_SCRIPT section is read into the snapshot; no tc, no qdiscs', () => {
    const output = `### nic\n### qdisc\n${fixture('qdisc-worker2-after.json')}`;
    assert.equal(parseCounters(output).qdiscs.length, 5);
    assert.deepEqual(parseQdiscJson(''), []);
    assert.deepEqual(parseQdiscJson('sh: tc: not found'), []);
    assert.deepEqual(parseQdiscJson('{"kind":"tbf"}'), []);
  });

  it('diff: the shaper that passed the test, with its overlimits; the rest are not shapers', () => {
    const diff = diffCounters(snapshot(before), snapshot(after));
    assert.deepEqual(
      diff.shapers.map(({ qdisc, bytes, overlimits, drops }) => [qdisc.device, bytes, overlimits, drops]),
      [['eth0', 25507839, 2422, 0]],
    );
    assert.match(
      describeCountersDiff(diff),
      /^eth0 qdisc tbf rate 100\.0 Mbit\/s: sent \+25507839 bytes, overlimits \+2422, dropped \+0$/m,
    );
  });

  it('a shaper that passed nothing, or was replaced in between (new handle, counters from 0), did not move', () => {
    assert.deepEqual(diffCounters(snapshot(after), snapshot(after)).shapers, []);
    const replaced = after.map((qdisc) => (qdisc.kind === 'tbf' ? { ...qdisc, handle: '8034:' } : qdisc));
    assert.deepEqual(diffCounters(snapshot(before), snapshot(replaced)).shapers, []);
  });
});
