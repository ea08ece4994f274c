/** The real node outputs in test/fixtures/node (see its README) and the facts they make. */
import { readFileSync } from 'node:fs';
import { discover, nodeFacts, type NodeFacts, type NodeIdentity } from '../../../src/node/facts.js';
import { parseSections, type Sections } from '../../../src/node/sections.js';

export const fixture = (name: string): string =>
  readFileSync(new URL(`../../../../test/fixtures/node/${name}`, import.meta.url), 'utf8');

export const sections = (name: string): Sections => parseSections(fixture(name));

/** The lab's nodes as the API has them. */
export const LAB_PEERS = [1, 2, 3].map((i) => ({
  name: `worker${i}.kube.local`,
  podCIDRs: [`10.233.${63 + i}.0/24`],
}));

export const labIdentity = (i: 1 | 2): NodeIdentity => ({
  name: `worker${i}.kube.local`,
  internalIP: `172.30.77.${10 + i}`,
  podCIDRs: [`10.233.${63 + i}.0/24`],
  runtimeVersion: 'containerd://1.6.20',
});

export function labFacts(i: 1 | 2): { facts: NodeFacts; inspected: Sections } {
  const inspected = sections(i === 1 ? 'inspect-worker1.txt' : 'inspect-worker2-full.txt');
  const discovered = discover(sections(`discover-worker${i}.txt`));
  return { facts: nodeFacts({ identity: labIdentity(i), peers: LAB_PEERS, discovered, inspected }), inspected };
}
