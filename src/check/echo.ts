/**
 * The echo servers check probes, one per node (the pod-probe profile with socat from the tools image as its main
 * process), and the test Service in front of them. Pure: the profile and the Service manifest; the engine creates them.
 *
 * HTTP on 8080 answers every request with 200 and the pod's name; TCP and UDP on 9000 send back what they get.
 */
import type { V1Service } from '../kube/client.js';
import { extendProfile, PROFILE_LABEL, type FleetProfile } from '../kube/fleet.js';
import { SESSION_LABEL } from '../kube/session.js';
import { ECHO_PORTS, SERVICE_PORTS } from './probes.js';

export const ECHO_PROFILE_NAME = 'check-echo';

/**
 * Reads the request up to its blank line before answering (answering unread input makes the kernel reset the
 * connection, which curl reports as an error), then closes. Any of the three servers dying ends the pod, so a
 * broken server shows as an unavailable node, not as a network failure.
 */
const ECHO_SERVER_SCRIPT = `cat >/tmp/respond <<'EOF'
#!/bin/bash
while IFS= read -r line && [ -n "\${line%$'\\r'}" ]; do :; done
body="netdiag-check echo $(hostname)"
printf 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s\\n' $(( \${#body} + 1 )) "$body"
EOF
chmod +x /tmp/respond
socat -T 5 TCP-LISTEN:${ECHO_PORTS.http},fork,reuseaddr EXEC:/tmp/respond &
socat -T 5 TCP-LISTEN:${ECHO_PORTS.echo},fork,reuseaddr EXEC:cat &
socat -T 1 UDP-RECVFROM:${ECHO_PORTS.echo},fork EXEC:cat &
wait -n
exit 1
`;

/** The echo server pods: the pod network, unprivileged, serving on the echo ports. */
export const ECHO_PROFILE: FleetProfile = extendProfile('pod-probe', {
  name: ECHO_PROFILE_NAME,
  command: ['bash', '-c', ECHO_SERVER_SCRIPT],
  ports: [
    { name: 'http', containerPort: ECHO_PORTS.http, protocol: 'TCP' },
    { name: 'echo-tcp', containerPort: ECHO_PORTS.echo, protocol: 'TCP' },
    { name: 'echo-udp', containerPort: ECHO_PORTS.echo, protocol: 'UDP' },
  ],
});

/** The test Service's name: one per run, so concurrent runs in a namespace never share endpoints. */
export const testServiceName = (sessionId: string): string => `netdiag-check-${sessionId}`;

/**
 * A NodePort Service over this run's echo pods (selected by session and profile labels). NodePorts are left to the
 * API server to allocate, so the Service never collides with one the cluster already uses.
 */
export function testServiceManifest(
  namespace: string,
  sessionId: string,
  sessionLabels: Readonly<Record<string, string>>,
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: testServiceName(sessionId), namespace, labels: { ...sessionLabels } },
    spec: {
      type: 'NodePort',
      selector: { [SESSION_LABEL]: sessionId, [PROFILE_LABEL]: ECHO_PROFILE_NAME },
      ports: [
        { name: 'http', port: SERVICE_PORTS.http, targetPort: ECHO_PORTS.http, protocol: 'TCP' },
        { name: 'echo-tcp', port: SERVICE_PORTS.echo, targetPort: ECHO_PORTS.echo, protocol: 'TCP' },
        { name: 'echo-udp', port: SERVICE_PORTS.echo, targetPort: ECHO_PORTS.echo, protocol: 'UDP' },
      ],
    },
  };
}

/** The TCP echo port's NodePort, once the API server allocated it. */
export function echoNodePort(service: V1Service): number | undefined {
  return service.spec?.ports?.find((port) => port.name === 'echo-tcp')?.nodePort;
}
