/**
 * Node mode's helper pod, one per node, shared by every target on it: the fleet's node-inspector profile
 * (privileged, hostPID to enter a container's network namespace with nsenter, hostNetwork to capture the node
 * itself). Preflight judges PodSecurity from this same profile (src/sniff/mode.ts).
 */
import { extendProfile } from '../kube/fleet.js';

export const SNIFF_NODE_PROFILE = extendProfile('node-inspector', { name: 'sniff-node' });
