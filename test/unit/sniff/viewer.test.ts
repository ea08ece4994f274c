import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NetdiagError } from '../../../src/lib/errors.js';
import { findViewer, viewerArgv, type ViewerHost } from '../../../src/sniff/viewer.js';

const host = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv, existing: string[]): ViewerHost => ({
  platform,
  env,
  homedir: platform === 'win32' ? 'C:\\Users\\me' : platform === 'darwin' ? '/Users/me' : '/home/me',
  isExecutable: (file) => existing.includes(file),
});

describe('viewer discovery', () => {
  it('prefers PATH on Linux', () => {
    const h = host('linux', { PATH: '/opt/ws/bin:/usr/bin' }, ['/opt/ws/bin/tshark', '/usr/bin/tshark']);
    assert.equal(findViewer('tshark', h), '/opt/ws/bin/tshark');
  });

  it('finds Wireshark inside the macOS app bundle when it is not on PATH', () => {
    const h = host('darwin', { PATH: '/usr/bin:/bin' }, ['/Applications/Wireshark.app/Contents/MacOS/Wireshark']);
    assert.equal(findViewer('wireshark', h), '/Applications/Wireshark.app/Contents/MacOS/Wireshark');
    const t = host('darwin', { PATH: '' }, ['/Users/me/Applications/Wireshark.app/Contents/MacOS/tshark']);
    assert.equal(findViewer('tshark', t), '/Users/me/Applications/Wireshark.app/Contents/MacOS/tshark');
  });

  it('finds Wireshark under Program Files on Windows', () => {
    const h = host('win32', { Path: 'C:\\Windows\\system32', ProgramFiles: 'C:\\Program Files' }, [
      'C:\\Program Files\\Wireshark\\Wireshark.exe',
    ]);
    assert.equal(findViewer('wireshark', h), 'C:\\Program Files\\Wireshark\\Wireshark.exe');
    const t = host('win32', { Path: 'D:\\tools;C:\\Windows' }, ['D:\\tools\\tshark.exe']);
    assert.equal(findViewer('tshark', t), 'D:\\tools\\tshark.exe');
  });

  it('honours the override variable first', () => {
    const h = host('linux', { PATH: '/usr/bin', NETDIAG_TSHARK: '/custom/tshark' }, [
      '/custom/tshark',
      '/usr/bin/tshark',
    ]);
    assert.equal(findViewer('tshark', h), '/custom/tshark');
  });

  it('fails with an OS-specific install hint (exit 3)', () => {
    for (const [platform, hint] of [
      ['linux', /apt-get install wireshark/],
      ['darwin', /Wireshark\.app/],
      ['win32', /Program Files/],
    ] as const) {
      assert.throws(
        () => findViewer('wireshark', host(platform, { PATH: '/usr/bin' }, [])),
        (err: unknown) =>
          err instanceof NetdiagError &&
          err.exitCode === 3 &&
          /Wireshark not found/.test(err.message) &&
          hint.test(err.fix ?? ''),
      );
    }
  });

  it('builds live-from-stdin argv', () => {
    assert.deepEqual(viewerArgv('wireshark', '/usr/bin/wireshark', 'ns/pod', []), [
      '/usr/bin/wireshark',
      '-k',
      '-i',
      '-',
      '-o',
      'gui.window_title:ns/pod',
    ]);
    assert.deepEqual(viewerArgv('tshark', 'tshark', 'x', ['-Y', 'dns']), ['tshark', '-i', '-', '-Y', 'dns']);
  });
});
