/** The parsers on real lab output (test/fixtures/dns/README.md says what produced each file). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { summarizeCapture } from '../../../src/dns/capture.js';
import { hopLatencies, nodeFindings } from '../../../src/dns/checks.js';
import type { Resolver } from '../../../src/dns/facts.js';
import {
  answerAddresses,
  classifyCorednsLog,
  parseCorefile,
  parseDig,
  parseGetent,
  parseResolvConf,
  summarizeCorefile,
} from '../../../src/dns/parse.js';
import { assembleNodeFacts, buildProbePlan } from '../../../src/dns/probe.js';
import { dnsPacketsFromPcap } from '../../../src/dns/wire.js';
import { PcapFormatError, PcapParser } from '../../../src/pcap/classic.js';
import { classicPcap, type TestPacket } from '../pcap/frames.js';
import { clusterFacts, LAB_COREFILE } from './builders.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/dns/${name}`, import.meta.url));
const text = (name: string) => fixture(name).toString('utf8');

describe('resolv.conf (a pod with dnsPolicy ClusterFirst on the lab)', () => {
  it('nameserver, search list, ndots', () =>
    assert.deepEqual(parseResolvConf(text('resolv.conf.txt')), {
      nameservers: ['169.254.25.10'],
      search: ['dnsfix-26480.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeout: undefined,
      attempts: undefined,
      singleRequestReopen: false,
      singleRequest: false,
      options: ['ndots:5'],
    }));
  it('options as glibc reads them (the last search wins, options add up, comments)', () =>
    assert.deepEqual(
      parseResolvConf(
        'search a.example\nnameserver 10.0.0.10 # primary\nsearch b.example c.example\noptions ndots:2 timeout:1\noptions attempts:3 single-request-reopen\n; comment',
      ),
      {
        nameservers: ['10.0.0.10'],
        search: ['b.example', 'c.example'],
        ndots: 2,
        timeout: 1,
        attempts: 3,
        singleRequestReopen: true,
        singleRequest: false,
        options: ['ndots:2', 'timeout:1', 'attempts:3', 'single-request-reopen'],
      },
    ));
});

describe('dig (BIND 9.18, +noall +comments +answer +stats)', () => {
  const cases: [string, Partial<ReturnType<typeof parseDig>>, string[]][] = [
    [
      'dig-nodelocal-udp.txt',
      { rcode: 'NOERROR', queryTimeMs: 8, server: '169.254.25.10#53', truncated: false, failure: undefined },
      ['10.233.0.1'],
    ],
    [
      'dig-clusterip-tcp.txt',
      { rcode: 'NOERROR', queryTimeMs: 0, server: '10.233.0.10#53', failure: undefined },
      ['10.233.0.1'],
    ],
    ['dig-nxdomain.txt', { rcode: 'NXDOMAIN', queryTimeMs: 20, failure: undefined }, []],
    ['dig-servfail.txt', { rcode: 'SERVFAIL', queryTimeMs: 12, failure: undefined }, []],
    ['dig-refused.txt', { rcode: undefined, failure: 'refused', queryTimeMs: undefined }, []],
    ['dig-timeout.txt', { rcode: undefined, failure: 'timeout', queryTimeMs: undefined }, []],
  ];
  for (const [file, expected, addresses] of cases)
    it(file, () => {
      const result = parseDig(text(file));
      for (const [key, value] of Object.entries(expected))
        assert.deepEqual(result[key as keyof typeof result], value, `${key} of ${file}`);
      assert.deepEqual(answerAddresses(result), addresses);
    });
  it('the answer record and flags', () => {
    const result = parseDig(text('dig-clusterip-tcp.txt'));
    assert.deepEqual(result.answers, [
      { name: 'kubernetes.default.svc.cluster.local.', ttl: 30, type: 'A', data: '10.233.0.1' },
    ]);
    assert.deepEqual(result.flags, ['qr', 'aa', 'rd']);
  });
  it('keeps dig’s error line for evidence', () =>
    assert.match(parseDig(text('dig-refused.txt')).failureText ?? '', /connection refused/));
});

describe('getent', () => {
  it('ahosts (glibc): the address once, the canonical name', () =>
    assert.deepEqual(parseGetent(text('getent-ahosts.txt')), {
      addresses: ['10.233.0.1'],
      canonicalName: 'kubernetes.default.svc.cluster.local',
    }));
  it('hosts (what musl’s getent prints)', () =>
    assert.deepEqual(parseGetent(text('getent-hosts.txt')), {
      addresses: ['10.233.0.1'],
      canonicalName: 'kubernetes.default.svc.cluster.local',
    }));
  it('not found prints nothing', () => assert.deepEqual(parseGetent(text('getent-notfound.txt')).addresses, []));
});

describe('Corefiles of the lab', () => {
  it('CoreDNS: forward to the world resolver, pods insecure, cache, loop', () =>
    assert.deepEqual(summarizeCorefile(parseCorefile(text('coredns.Corefile'))), LAB_COREFILE));
  it('nodelocaldns: three server blocks, its bind address, nested cache TTLs', () => {
    const servers = parseCorefile(text('nodelocaldns.Corefile'));
    assert.deepEqual(
      servers.map((server) => server.keys.join(' ')),
      ['cluster.local:53', 'in-addr.arpa:53', '.:53'],
    );
    const summary = summarizeCorefile(servers);
    assert.deepEqual(summary.bind, ['169.254.25.10']);
    assert.deepEqual(summary.forward, ['10.233.0.10']);
    const clusterBlock = summarizeCorefile([servers[0]!]);
    assert.deepEqual(clusterBlock.cache, { successTtl: 30, denialTtl: 5 });
  });
  it('no kubernetes plugin: pods mode unknown; `pods` missing: disabled', () => {
    assert.equal(summarizeCorefile(parseCorefile('.:53 {\n  forward . /etc/resolv.conf\n}\n')).podsMode, undefined);
    assert.equal(summarizeCorefile(parseCorefile('.:53 {\n  kubernetes cluster.local\n}\n')).podsMode, 'disabled');
  });
});

describe('CoreDNS logs', () => {
  it('the lab’s "no next plugin found" lines are errors, not a detected loop', () => {
    const events = classifyCorednsLog(text('coredns.log'));
    assert.equal(events.length, 7);
    assert.ok(events.every((event) => event.kind === 'error'));
  });
  const lines: [string, string][] = [
    [
      '[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."',
      'loop',
    ],
    [
      '[ERROR] plugin/errors: 2 www.netdiag.test. A: read udp 10.233.64.6:43821->172.30.78.53:53: i/o timeout',
      'timeout',
    ],
    ['[INFO] 10.233.64.5:46598 - 7 "A IN www.netdiag.test. udp 45 false 1232" SERVFAIL qr,rd 45 2.001s', 'servfail'],
    [
      '[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go/tools/cache/reflector.go: Failed to watch *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden',
      'forbidden',
    ],
    ['[INFO] plugin/reload: Running configuration SHA512 = 4be1', ''],
  ];
  for (const [line, kind] of lines)
    it(`${kind || 'nothing'}: ${line.slice(0, 60)}`, () =>
      assert.deepEqual(
        classifyCorednsLog(line).map((event) => event.kind),
        kind ? [kind] : [],
      ));
});

describe('the probe script’s real output (worker1, 3 queries per resolver)', () => {
  const resolver = (role: Resolver['role'], address: string, label: string): Resolver => ({ role, address, label });
  const plan = buildProbePlan({
    resolvers: [
      resolver('nodelocal', '169.254.25.10', 'node-local cache'),
      resolver('clusterip', '10.233.0.10', 'kube-dns'),
      resolver('coredns-pod', '10.233.65.2', 'coredns-785944bf55-h8shq'),
      resolver('coredns-pod', '10.233.64.250', 'coredns-gone'),
    ],
    clusterName: 'kubernetes.default.svc.cluster.local',
    clusterExpected: ['10.233.0.1'],
    lookups: [
      { name: 'kubernetes.default', kind: 'cluster', expected: ['10.233.0.1'], isDefault: false },
      { name: 'kube-dns.kube-system', kind: 'cluster', expected: ['10.233.0.10'], isDefault: false },
      { name: 'kubernetes.io', kind: 'external', expected: [], isDefault: true },
    ],
    externalNames: ['kubernetes.io'],
    uncachedNames: [],
    queries: 3,
    repeatName: 'kubernetes.default',
    repeatExpected: ['10.233.0.1'],
    largeName: undefined,
  });
  const facts = assembleNodeFacts(
    plan,
    { node: 'worker1.kube.local', pod: 'tools', podIP: '10.233.64.5', namespace: 'dnsfix-26480' },
    text('probe-worker1.txt'),
  );
  it('resolv.conf, three lookups and three repeats', () => {
    assert.equal(facts.resolvConf?.nameservers[0], '169.254.25.10');
    assert.deepEqual(
      facts.lookups.map((lookup) => [lookup.name, lookup.exitCode, lookup.result.addresses[0]]),
      [
        ['kubernetes.default', 0, '10.233.0.1'],
        ['kube-dns.kube-system', 0, '10.233.0.10'],
        ['kubernetes.io', 2, undefined],
      ],
    );
    assert.equal(facts.repeated.length, 3);
  });
  // Both CoreDNS addresses went silent: the lab's CoreDNS was being replaced while this output was captured (the
  // second is an address where nothing ever listened). Their jobs stopped at the first timeout.
  it('the cache and the ClusterIP answered; the two gone CoreDNS addresses timed out once each', () =>
    assert.deepEqual(
      hopLatencies(facts.hops).map((row) => `${row.label} ${row.protocol} ${row.answered}/${row.queries}`),
      [
        'node-local cache udp 3/3',
        'node-local cache tcp 3/3',
        'kube-dns udp 3/3',
        'kube-dns tcp 3/3',
        'coredns-785944bf55-h8shq udp 0/1',
        'coredns-785944bf55-h8shq tcp 0/1',
        'coredns-gone udp 0/1',
        'coredns-gone tcp 0/1',
      ],
    ));
  it('→ findings: no CoreDNS pod answering is a failure of that hop; the default external name is skipped', () => {
    const findings = nodeFindings(facts, { cluster: clusterFacts(), namespace: 'dnsfix-26480' });
    const status = (id: string) => findings.find((f) => f.id === id)?.status;
    assert.deepEqual(
      [
        'dns.resolvconf',
        'dns.lookup.cluster',
        'dns.hop.nodelocal',
        'dns.hop.clusterip',
        'dns.hop.coredns-pod',
        'dns.lookup.external',
      ].map(status),
      ['pass', 'pass', 'pass', 'pass', 'fail', 'skip'],
    );
  });
});

describe('a captured lookup (tcpdump -i any, LINUX_SLL2)', () => {
  const packets = dnsPacketsFromPcap(fixture('capture-search-expansion.pcap'));
  it('decodes every DNS packet of the capture', () => {
    assert.equal(packets.length, 20);
    assert.deepEqual(
      packets.slice(0, 3).map((p) => [p.src, p.dst, p.transport, p.response, p.type, p.name, p.rcode]),
      [
        ['10.233.64.5', '169.254.25.10', 'udp', false, 'A', 'kubernetes.io.dnsfix-26480.svc.cluster.local.', undefined],
        [
          '10.233.64.5',
          '169.254.25.10',
          'udp',
          false,
          'AAAA',
          'kubernetes.io.dnsfix-26480.svc.cluster.local.',
          undefined,
        ],
        ['169.254.25.10', '10.233.64.5', 'udp', true, 'A', 'kubernetes.io.dnsfix-26480.svc.cluster.local.', 'NXDOMAIN'],
      ],
    );
  });
  it('summarises the ndots:5 search expansion: 10 queries, 6 NXDOMAIN, the name itself last', () => {
    const summary = summarizeCapture('worker1.kube.local', 'kubernetes.io', '10.233.64.5', packets);
    assert.equal(summary.queries.length, 10);
    assert.equal(summary.nxdomain, 6);
    assert.equal(summary.unanswered, 0);
    assert.deepEqual(summary.queries.map((q) => `${q.name} ${q.type} ${q.rcode}`).slice(-2), [
      'kubernetes.io. A SERVFAIL',
      'kubernetes.io. AAAA SERVFAIL',
    ]);
  });
});

describe('dnsPacketsFromPcap reads every classic pcap tcpdump writes', () => {
  const original = fixture('capture-search-expansion.pcap');
  const expected = dnsPacketsFromPcap(original);
  /** The same capture rewritten with another byte order or timestamp precision (same instants). */
  const rewritten = (options: { bigEndian: boolean; nanos: boolean }): Buffer => {
    const parser = new PcapParser();
    parser.push(original);
    let linkType = 0;
    const packets: TestPacket[] = [];
    for (let item = parser.next(); item !== undefined; item = parser.next()) {
      if (item.kind === 'header') linkType = item.header.linkType;
      else packets.push({ tsNanos: item.packet.tsNanos, data: item.packet.data, origLen: item.packet.origLen });
    }
    return classicPcap({ ...options, linkType }, packets);
  };
  for (const options of [
    { bigEndian: false, nanos: true },
    { bigEndian: true, nanos: false },
    { bigEndian: true, nanos: true },
  ]) {
    it(`decodes the same packets and instants from a ${options.bigEndian ? 'big' : 'little'}-endian ${options.nanos ? 'nanosecond' : 'microsecond'} capture`, () => {
      assert.deepEqual(dnsPacketsFromPcap(rewritten(options)), expected);
    });
  }
  it('drops a record cut short at the end and keeps the ones before it', () => {
    assert.deepEqual(dnsPacketsFromPcap(original.subarray(0, original.length - 1)), expected.slice(0, -1));
  });
  it('throws PcapFormatError for what is not pcap', () => {
    assert.throws(() => dnsPacketsFromPcap(Buffer.from('tcpdump: any: That device is not up\n')), PcapFormatError);
  });
});
