/**
 * A run that owns a session and creates one fleet, for the fleet e2e's interruption test: the same lifecycle a
 * command has (SIGINT/SIGTERM → AbortSignal, the session cleaned up however the run ends, exit 130 when
 * interrupted). argv: NAMESPACE IMAGE PROFILE NODE[,NODE...]. Prints `session <id>` first, then one JSON line with
 * the members and unavailable nodes.
 */
import { KubeClient } from '../../src/kube/client.js';
import { Fleets, PROFILES, type ProfileName } from '../../src/kube/fleet.js';
import { RunSession } from '../../src/kube/session.js';
import { INTERRUPTED_EXIT_STATUS } from '../../src/lib/errors.js';
import { createProgress } from '../../src/lib/progress.js';
import { createRunAbort } from '../../src/lib/signals.js';

const [namespace, image, profile, nodes] = process.argv.slice(2) as [string, string, ProfileName, string];
const abort = createRunAbort();
const client = KubeClient.fromAccess({ namespace, requestTimeoutMs: 30_000 });
const session = new RunSession(client);
process.stdout.write(`session ${session.id}\n`);
try {
  const fleets = new Fleets({
    client,
    session,
    progress: createProgress({ mode: 'plain', verbose: false }),
    signal: abort.signal,
    namespace,
    image,
    podRunningTimeoutMs: 120_000,
  });
  const fleet = await fleets.get(PROFILES[profile], nodes.split(','));
  process.stdout.write(`${JSON.stringify({ members: fleet.members, unavailable: fleet.unavailable })}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = abort.received() ? INTERRUPTED_EXIT_STATUS : 3;
} finally {
  const outcome = await session.cleanup();
  process.stderr.write(`cleaned up ${outcome.deleted.length} pod(s), ${outcome.failed.length} failed\n`);
  abort.dispose();
}
