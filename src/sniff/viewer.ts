import path from 'node:path';
import { environmentError } from '../lib/errors.js';

export type ViewerKind = 'wireshark' | 'tshark';

/** What viewer discovery may look at; injected so discovery for every OS is unit-tested on any OS. */
export interface ViewerHost {
  readonly platform: NodeJS.Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly homedir: string;
  /** True when the path exists and is an executable file (or a file at all on Windows). */
  readonly isExecutable: (file: string) => boolean;
}

const ENV_OVERRIDE: Record<ViewerKind, string> = { wireshark: 'NETDIAG_WIRESHARK', tshark: 'NETDIAG_TSHARK' };

/** Every place a viewer is looked for, in order: override variable, PATH, then the installer's default places. */
export function viewerCandidates(kind: ViewerKind, host: ViewerHost): string[] {
  const windows = host.platform === 'win32';
  const join = windows ? path.win32.join : path.posix.join;
  const candidates: string[] = [];
  const override = host.env[ENV_OVERRIDE[kind]];
  if (override) candidates.push(override);

  const pathVar = host.env.PATH ?? host.env.Path ?? '';
  const exeNames = windows ? [`${kind}.exe`, kind === 'wireshark' ? 'Wireshark.exe' : 'tshark.exe'] : [kind];
  for (const dir of pathVar.split(windows ? ';' : ':')) {
    if (dir === '') continue;
    for (const name of exeNames) candidates.push(join(dir, name));
  }

  if (host.platform === 'darwin') {
    const bundled = kind === 'wireshark' ? 'Wireshark' : 'tshark';
    for (const apps of ['/Applications', join(host.homedir, 'Applications')]) {
      candidates.push(join(apps, 'Wireshark.app', 'Contents', 'MacOS', bundled));
    }
    candidates.push(join('/opt/homebrew/bin', kind), join('/usr/local/bin', kind));
  } else if (windows) {
    const exe = kind === 'wireshark' ? 'Wireshark.exe' : 'tshark.exe';
    for (const root of [
      host.env.ProgramFiles,
      host.env['ProgramFiles(x86)'],
      host.env.ProgramW6432,
      'C:\\Program Files',
    ]) {
      if (root) candidates.push(join(root, 'Wireshark', exe));
    }
  } else {
    for (const dir of ['/usr/bin', '/usr/local/bin', '/snap/bin', '/var/lib/flatpak/exports/bin']) {
      candidates.push(join(dir, kind));
    }
  }
  return [...new Set(candidates)];
}

export function installHint(kind: ViewerKind, platform: NodeJS.Platform): string {
  const pkg = kind === 'tshark' ? 'tshark' : 'wireshark';
  switch (platform) {
    case 'darwin':
      return `install Wireshark (brew install --cask wireshark, or from wireshark.org; it lands in /Applications/Wireshark.app), or set ${ENV_OVERRIDE[kind]} to the ${kind} binary`;
    case 'win32':
      return `install Wireshark (winget install WiresharkFoundation.Wireshark; it lands in C:\\Program Files\\Wireshark), or set ${ENV_OVERRIDE[kind]} to ${kind}.exe`;
    default:
      return `install it (apt-get install ${pkg}, dnf install ${kind === 'tshark' ? 'wireshark-cli' : 'wireshark'}, pacman -S wireshark-${kind === 'tshark' ? 'cli' : 'qt'}), or set ${ENV_OVERRIDE[kind]} to the binary; or write to a file with -o`;
  }
}

/** Finds the viewer binary or fails with an install hint (exit 3) before anything is created in the cluster. */
export function findViewer(kind: ViewerKind, host: ViewerHost): string {
  const found = viewerCandidates(kind, host).find((file) => host.isExecutable(file));
  if (found === undefined) {
    throw environmentError(
      `${kind === 'wireshark' ? 'Wireshark' : 'tshark'} not found on this machine`,
      installHint(kind, host.platform),
    );
  }
  return found;
}

/**
 * The viewer's argv reading a live capture from stdin. Wireshark: `-k -i -` starts capturing from the pipe at once,
 * with the target in the window title. tshark: `-i -` treats stdin as a live pipe (prints packets as they arrive);
 * the user's extra arguments (after `--`) come last.
 */
export function viewerArgv(kind: ViewerKind, binary: string, title: string, extra: readonly string[]): string[] {
  if (kind === 'wireshark') {
    return [binary, '-k', '-i', '-', '-o', `gui.window_title:${title}`, ...extra];
  }
  return [binary, '-i', '-', ...extra];
}
