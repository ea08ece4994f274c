import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECK_IDS } from '../../../src/check/ids.js';
import {
  coverage,
  effectiveSample,
  peersOf,
  planMtuProbes,
  planProbes,
  type PlanInput,
} from '../../../src/check/probes.js';

const nodes = ['w1', 'w2', 'w3'];
const input: PlanInput = {
  sources: nodes,
  nodes: nodes.map((name, index) => ({ name, internalIP: `172.30.77.1${index + 1}` })),
  echo: nodes.map((node, index) => ({ node, podIP: `10.233.6${4 + index}.9` })),
  service: { clusterIP: '10.233.1.2', echoNodePort: 31000, dnsName: 'netdiag-check-ab.ns.svc' },
  serviceReady: true,
  kubernetesClusterIP: '10.233.0.1',
  outside: { tcp: [], udp: [], urls: [], ping: [] },
};

describe('planProbes', () => {
  const probes = planProbes(input);
  const count = (id: string) => probes.filter((probe) => probe.id === id).length;

  it('checks every ordered pair, the same node included, at L3 and by pod IP and NodePort', () => {
    for (const id of [CHECK_IDS.podToPod, CHECK_IDS.podToNode, CHECK_IDS.podIP, CHECK_IDS.nodePort]) {
      assert.equal(count(id), 9, id);
    }
    const fromW3 = probes.filter((probe) => probe.id === CHECK_IDS.podToPod && probe.from === 'w3');
    assert.deepEqual(
      fromW3.map((probe) => [probe.to, probe.target]),
      [
        ['w3', '10.233.66.9'],
        ['w1', '10.233.64.9'],
        ['w2', '10.233.65.9'],
      ],
    );
  });
  it('decomposes the service path per node: ClusterIP over TCP and UDP, name, HTTP by IP and name, kubernetes', () => {
    const w2 = probes.filter((probe) => probe.from === 'w2' && probe.to === undefined);
    assert.deepEqual(
      w2.map((probe) => `${probe.id} ${probe.target}`),
      [
        'check.l4.clusterip clusterip/tcp',
        'check.l4.clusterip clusterip/udp',
        'check.l4.name name',
        'check.l7.http clusterip',
        'check.l7.http name',
        'check.kubernetes-service clusterip',
      ],
    );
    assert.deepEqual(w2[2]?.argv, ['nc', '-z', '-v', '-w', '2', 'netdiag-check-ab.ns.svc', '9000']);
    assert.equal(w2[4]?.argv.at(-1), 'http://netdiag-check-ab.ns.svc:80/');
    assert.equal(w2[5]?.anyHttpStatus, true);
  });
  it('plans no outside probe unless asked', () => {
    assert.equal(
      probes.filter((probe) => probe.layer === 'external').length,
      0,
      'air-gapped clusters must see no failure they did not ask for',
    );
  });
  it('plans each outside target from every node', () => {
    const outside = planProbes({
      ...input,
      outside: {
        tcp: [{ host: 'www.netdiag.test', port: 81 }],
        udp: [{ host: 'fd00::1', port: 53 }],
        urls: ['http://www.netdiag.test/'],
        ping: ['www.netdiag.test'],
      },
    }).filter((probe) => probe.layer === 'external');
    assert.equal(outside.length, 12);
    assert.deepEqual(
      outside.filter((probe) => probe.from === 'w1').map((probe) => [probe.id, probe.target]),
      [
        [CHECK_IDS.externalTcp, 'www.netdiag.test:81'],
        [CHECK_IDS.externalUdp, 'udp:[fd00::1]:53'],
        [CHECK_IDS.externalHttp, 'http://www.netdiag.test/'],
        [CHECK_IDS.externalPing, 'www.netdiag.test'],
      ],
    );
  });
  it('a test Service without endpoints: no ClusterIP, NodePort, name or HTTP probes; the rest as planned', () => {
    const without = planProbes({ ...input, serviceReady: false });
    const ids = new Set(without.map((probe) => probe.id));
    for (const id of [CHECK_IDS.clusterIP, CHECK_IDS.nodePort, CHECK_IDS.serviceName, CHECK_IDS.http])
      assert.ok(!ids.has(id), id);
    for (const id of [CHECK_IDS.podToPod, CHECK_IDS.podToNode, CHECK_IDS.podIP, CHECK_IDS.kubernetesService])
      assert.equal(
        without.filter((probe) => probe.id === id).length,
        probes.filter((probe) => probe.id === id).length,
        id,
      );
  });
  it('skips pod targets on nodes without an echo server and node targets without an InternalIP', () => {
    const partial = planProbes({
      ...input,
      echo: input.echo.filter((server) => server.node !== 'w2'),
      nodes: input.nodes.map((node) => (node.name === 'w3' ? { name: 'w3', internalIP: undefined } : node)),
    });
    assert.equal(
      partial.filter(
        (probe) =>
          probe.to === 'w2' && probe.layer === 'L3' && probe.kind === 'ping' && probe.id === CHECK_IDS.podToPod,
      ).length,
      0,
    );
    assert.equal(partial.filter((probe) => probe.to === 'w3' && probe.id === CHECK_IDS.nodePort).length, 0);
  });
});

describe('sampling on a hash ring', () => {
  const many = Array.from({ length: 60 }, (_, index) => `node-${index}.example`);

  it('checks all pairs up to 50 nodes, then 10 peers each unless told', () => {
    assert.equal(effectiveSample(undefined, 50), undefined);
    assert.equal(effectiveSample(undefined, 51), 10);
    assert.equal(effectiveSample(3, 5), 3);
  });
  it('is stable: the same peers every run, and a new node moves few existing pairs', () => {
    const before = many.map((node) => peersOf(node, many, 4));
    assert.deepEqual(
      many.map((node) => peersOf(node, many, 4)),
      before,
    );
    const grown = [...many, 'node-new.example'];
    const changed = many.filter((node, index) => peersOf(node, grown, 4).join() !== before[index]?.join());
    assert.ok(changed.length <= 4, `${changed.length} nodes changed peers`);
  });
  it('gives K distinct peers, never the node itself, and every node is checked by someone', () => {
    const targets = new Set<string>();
    for (const node of many) {
      const peers = peersOf(node, many, 4);
      assert.equal(new Set(peers).size, 4);
      assert.ok(!peers.includes(node));
      for (const peer of peers) targets.add(peer);
    }
    assert.equal(targets.size, many.length);
  });
  it('reports the coverage', () => {
    assert.deepEqual(coverage(many, 4), { pairsChecked: 240, pairsTotal: 3540, sample: 4 });
    assert.deepEqual(coverage(nodes, undefined), { pairsChecked: 6, pairsTotal: 6 });
    assert.deepEqual(coverage(nodes, 5), { pairsChecked: 6, pairsTotal: 6, sample: 5 });
  });
  it('limits the pair probes to the sample', () => {
    const probes = planProbes({
      ...input,
      sources: many,
      nodes: many.map((name) => ({ name, internalIP: '10.0.0.1' })),
      echo: many.map((node) => ({ node, podIP: '10.1.0.1' })),
      sample: 4,
    });
    // 4 peers + the node itself, 2 pair checks to echo pods + 2 to node addresses
    assert.equal(probes.filter((probe) => probe.to !== undefined).length, 60 * 5 * 4);
  });
});

describe('planMtuProbes', () => {
  it('pings across nodes only, at the smaller pod MTU minus 28, with DF', () => {
    const probes = planMtuProbes({
      sources: nodes,
      nodes,
      echo: input.echo,
      podMtu: new Map([
        ['w1', 1500],
        ['w2', 1450],
        ['w3', 1500],
      ]),
    });
    assert.equal(probes.length, 6);
    const w1w2 = probes.find((probe) => probe.from === 'w1' && probe.to === 'w2');
    assert.deepEqual(w1w2?.argv, [
      'ping',
      '-n',
      '-c',
      '2',
      '-W',
      '1',
      '-w',
      '1',
      '-i',
      '0.2',
      '-M',
      'do',
      '-s',
      '1422',
      '10.233.65.9',
    ]);
    assert.equal(probes.find((probe) => probe.from === 'w1' && probe.to === 'w3')?.argv.at(-2), '1472');
  });
});
