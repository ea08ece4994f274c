import * as Flags from '@oclif/core/flags';
import { clientVersion } from '../lib/build-info.js';
import { NetdiagCommand } from '../cli/command.js';
import { outputFlag } from '../cli/flags.js';
import { parseFormat, renderData } from '../findings/render/formats.js';
import { ExitCode, NetdiagError } from '../lib/errors.js';
import { reportError } from '../lib/output.js';

/** kubectl version has no wide form, nor does this. */
const VERSION_FORMATS = ['table', 'json', 'yaml'] as const;

/**
 * Prints the client version and, unless --client, the server's. Exit status: 0 when both are known (or --client);
 * 3 when the server cannot be asked — the client part is still printed on stdout, the reason on stderr, so bug
 * reports get the client facts and scripts can still tell that the cluster is unreachable (as `kubectl version` does).
 */
export default class Version extends NetdiagCommand {
  static override summary = 'Print the client version, commit, Node version and the server version.';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --client -o json'];
  static override flags = {
    ...outputFlag(VERSION_FORMATS),
    client: Flags.boolean({ description: 'Only the client version; never contacts the cluster.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseFlags(Version);
    const client = clientVersion(this.config.root, this.config.version);
    let server: { gitVersion: string; platform: string } | undefined;
    let serverError: NetdiagError | undefined;
    if (!flags.client) {
      try {
        const info = await (await this.client()).serverVersion({ signal: this.abort.signal });
        server = { gitVersion: info.gitVersion, platform: info.platform };
      } catch (err) {
        // Bad input (unknown context, bad flag value) is still an error; only "cannot ask the server" degrades.
        if (!(err instanceof NetdiagError) || err.exitCode !== ExitCode.Environment) throw err;
        serverError = err;
      }
    }
    const data = {
      client,
      ...(flags.client ? {} : { server: server ?? null, ...(serverError ? { serverError: serverError.message } : {}) }),
    };
    process.stdout.write(
      await renderData(parseFormat(flags.output, VERSION_FORMATS), data, () => {
        const lines = [
          `Client Version: ${client.version}`,
          `Commit: ${client.commit}`,
          `Node: ${client.node} (${client.platform})`,
        ];
        if (server) lines.push(`Server Version: ${server.gitVersion}`);
        else if (!flags.client) lines.push('Server Version: unknown (see error below)');
        return `${lines.join('\n')}\n`;
      }),
    );
    if (serverError) reportError(serverError, this.globals.verbose);
  }
}
