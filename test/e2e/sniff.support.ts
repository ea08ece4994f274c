/**
 * What only the sniff suites need on top of the harness (harness.ts): workloads that make DNS traffic, ephemeral
 * container and upload-mode leftovers, tshark/capinfos. Its tearDown and managedPods judge sniff's pods only, so
 * other suites running at the same time do not fail these.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as harness from './harness.js';
import { DNS_LOOP, kubectl, kubectlOk, mainContainer, type Run } from './harness.js';

export * from './harness.js';

/** Sniff's helper pods: node-mode helpers and nothing else of netdiag's. */
export const SNIFF_POD_PREFIX = 'netdiag-sniff-';
export const managedPods = (): string[] => harness.managedPods(SNIFF_POD_PREFIX);
export const tearDown = (scratch: string, namespaces: readonly string[]): void =>
  harness.tearDown(scratch, namespaces, SNIFF_POD_PREFIX);

/**
 * A ValidatingAdmissionPolicy (cluster-scoped, named `name`) and its binding that refuse every new ephemeral
 * container in `namespace`: the kind of rule a policy engine enforces and preflight cannot read.
 */
export function noEphemeralContainersPolicy(name: string, namespace: string): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ${name}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: ["v1"]
        operations: ["UPDATE"]
        resources: ["pods/ephemeralcontainers"]
  validations:
    - expression: "false"
      message: no ephemeral containers in this namespace
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ${name}
spec:
  policyName: ${name}
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: ${namespace}
`;
}

/** A pod running a DNS lookup loop (the search-domain expansions show up in a port 53 capture). */
export function dnsLoopPod(
  namespace: string,
  name: string,
  extra: { nodeName?: string; labels?: Record<string, string>; restricted?: boolean } = {},
): string {
  const labels = Object.entries(extra.labels ?? { app: name })
    .map(([k, v]) => `\n    ${k}: ${v}`)
    .join('');
  const security = extra.restricted
    ? `\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    seccompProfile:\n      type: RuntimeDefault`
    : '';
  const containerSecurity = extra.restricted
    ? `\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: ["ALL"]`
    : '';
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:${labels}
spec:${extra.nodeName ? `\n  nodeName: ${extra.nodeName}` : ''}
  terminationGracePeriodSeconds: 1${security}
  containers:
${mainContainer(DNS_LOOP, '  ')}${containerSecurity}
`;
}

/** Names of running netdiag ephemeral containers of a pod. */
export function runningSniffContainers(namespace: string, pod: string): string[] {
  const json = JSON.parse(kubectlOk(['get', 'pod', '-n', namespace, pod, '-o', 'json'])) as {
    status?: { ephemeralContainerStatuses?: { name: string; state?: { running?: object } }[] };
  };
  return (json.status?.ephemeralContainerStatuses ?? [])
    .filter((s) => s.name.startsWith('netdiag-sniff-') && s.state?.running)
    .map((s) => s.name);
}

export function ephemeralCount(namespace: string, pod: string): number {
  return Number(
    kubectlOk(['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.spec.ephemeralContainers[*].name}'])
      .split(' ')
      .filter(Boolean).length,
  );
}

/**
 * What upload mode may leave in a container ('' = nothing): its /tmp/netdiag-* directories (the kept tcpdump), running
 * tcpdumps (`... tcpdump -U ...`), and its shell processes (the capture wrapper, the upload's watchdog). The brackets keep the pattern from matching the
 * shell that runs this script.
 */
export function uploadLeftovers(namespace: string, pod: string, container = 'main'): string {
  const script =
    'ls -d /tmp/netdiag-* 2>/dev/null; pgrep -a tcpdump; pgrep -af "netdiag-[u]pload|netdiag-[c]apture"; true';
  return kubectl(['exec', '-n', namespace, pod, '-c', container, '--', 'sh', '-c', script]).stdout.trim();
}

/** tcpdump processes in the pod's netdiag ephemeral containers, via `kubectl exec ... pgrep`. */
export function tcpdumpsInPod(namespace: string, pod: string): string[] {
  const found: string[] = [];
  for (const container of runningSniffContainers(namespace, pod)) {
    const run = kubectl(['exec', '-n', namespace, pod, '-c', container, '--', 'pgrep', '-a', 'tcpdump']);
    if (run.status === 0)
      found.push(
        ...run.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `${container}: ${l}`),
      );
  }
  return found;
}

export function tshark(args: readonly string[], input?: Buffer): Run {
  const result = spawnSync('tshark', args, { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export function capinfos(file: string): Run {
  const result = spawnSync('capinfos', [file], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** DNS query names in a capture file. */
export function dnsQueries(file: string): string[] {
  const run = tshark(['-r', file, '-Y', 'dns.flags.response == 0', '-T', 'fields', '-e', 'dns.qry.name']);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}
