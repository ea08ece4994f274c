/**
 * Node mode's helper pod, one per node, shared by every target on it: the fleet's node-inspector shape (privileged,
 * hostPID to enter a container's network namespace with nsenter and find the runtime's streaming port, hostNetwork
 * to capture the node itself) without the host's root mount, which capturing never reads and which cost ~1 s of pod
 * start on the lab (1.4-2.4 s → 0.8 s to Running). Preflight judges PodSecurity from this same profile
 * (src/sniff/mode.ts).
 */
import { PROFILES, type FleetProfile } from '../kube/fleet.js';

export const SNIFF_NODE_PROFILE: FleetProfile = { ...PROFILES['node-inspector'], name: 'sniff-node', hostPaths: [] };
