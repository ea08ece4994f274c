// Runs the static tcpdump built by scripts/build-tcpdump (the amd64 one, on an x86-64 host): --version, then a
// real loopback capture to stdout read back with readPcap and parseTcpdumpStats, as upload mode does remotely.
// Needs root (CAP_NET_RAW) for the capture. A missing asset skips unless NETDIAG_REQUIRE_ASSETS=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readPcap, type PcapPacket } from '../../../src/pcap/classic.js';
import { parseTcpdumpStats } from '../../../src/pcap/stats.js';
import { FIXTURES } from './frames.js';

const assetsDir = process.env.NETDIAG_ASSETS_DIR ?? join(FIXTURES, '..', '..', '..', 'assets');
const binary = join(assetsDir, 'tcpdump', 'linux-amd64', 'tcpdump');
const required = process.env.NETDIAG_REQUIRE_ASSETS === '1';
const skipReason =
  process.arch !== 'x64'
    ? 'not an x86-64 host'
    : !existsSync(binary) && !required
      ? `${binary} not built (scripts/build-tcpdump)`
      : false;

test('static tcpdump runs: --version', { skip: skipReason }, () => {
  assert.ok(existsSync(binary), `${binary} is missing: run scripts/build-tcpdump`);
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8' });
  assert.match(out, /^tcpdump version \d+\.\d+\.\d+/m);
  assert.match(out, /libpcap version \d+\.\d+/);
});

test(
  'static tcpdump captures loopback UDP to stdout as classic pcap',
  { skip: skipReason || (process.getuid?.() !== 0 && 'capturing needs root'), timeout: 20_000 },
  async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    // -n and no -Z: a static glibc binary must not need NSS (see scripts/build-tcpdump)
    const child = spawn(binary, ['-n', '-U', '-i', 'lo', '-c', '3', '-w', '-', 'udp', 'port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watchdog = setTimeout(() => child.kill('SIGTERM'), 15_000);
    let stderr = '';
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => {
        stderr += s;
        if (stderr.includes('listening on')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`tcpdump exited early: ${code ?? signal}\n${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const contents = readPcap(child.stdout);
    const packets: PcapPacket[] = [];
    const reading = (async () => {
      for await (const p of contents.packets) packets.push(p);
    })();
    await listening;
    const sock = createSocket('udp4');
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((r, j) => sock.send(`static-tcpdump ${i}`, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    }
    sock.close();
    const code = await exited;
    clearTimeout(watchdog);
    await reading;
    assert.equal(code, 0, stderr);
    assert.equal(contents.header?.linkType, 1, 'lo is Ethernet');
    assert.equal(packets.length, 3);
    packets.forEach((p, i) => assert.match(p.data.toString('latin1'), new RegExp(`static-tcpdump ${i}$`)));
    assert.deepEqual(contents.ending, { truncatedBytes: 0, headerMissing: false });
    assert.equal(parseTcpdumpStats(stderr).captured, 3);
  },
);

// The arm64 binary runs here only under user-mode emulation (Debian's qemu-user-static, installed by scripts/setup).
// qemu-user lacks the ethtool ioctls libpcap uses when opening an interface, so only --version is checked this way.
// With NETDIAG_REQUIRE_ASSETS=1 (npm test) neither a missing emulator nor a missing binary skips: the test fails.
const arm64Binary = join(assetsDir, 'tcpdump', 'linux-arm64', 'tcpdump');
const qemu = spawnSync('qemu-aarch64-static', ['--version'], { stdio: 'ignore' }).status === 0;
test(
  'static arm64 tcpdump runs under qemu-aarch64-static: --version',
  {
    skip: required
      ? false
      : !qemu
        ? 'qemu-aarch64-static not installed (apt-get install qemu-user-static)'
        : !existsSync(arm64Binary) && `${arm64Binary} not built`,
  },
  () => {
    assert.ok(qemu, 'qemu-aarch64-static is missing: scripts/setup installs qemu-user-static');
    assert.ok(existsSync(arm64Binary), `${arm64Binary} is missing: run scripts/build-tcpdump`);
    const out = execFileSync('qemu-aarch64-static', [arm64Binary, '--version'], { encoding: 'utf8' });
    assert.match(out, /^tcpdump version \d+\.\d+\.\d+/m);
  },
);
