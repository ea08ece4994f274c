/**
 * `sniff -o PATH` owns only what it creates (src/lib/owned-output.ts): a failing capture leaves a pre-existing file,
 * a FIFO and a character device exactly as they were and creates nothing; Ctrl-C before the first packet leaves a
 * pre-existing file untouched; a capture that works still replaces an existing file with a valid capture. The device
 * node is made with mknod in the scratch directory, never the machine's /dev/null.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  capinfos,
  createNamespace,
  dnsLoopPod,
  env,
  haveCluster,
  kubectlOk,
  netdiag,
  tearDown,
  waitFor,
  waitPodsReady,
} from './sniff.support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-sniff-outputs-'));
let ns = '';
const PRECIOUS = 'precious data\n';
/** tcpdump refuses this filter: the capture fails before its first packet, exit 2. */
const BAD_FILTER = 'port fifty';

const sniff = (output: string, ...extra: string[]) => netdiag(['sniff', 'dnsloop', '-n', ns, '-o', output, ...extra]);

describe('sniff -o owns only what it creates', { timeout: 600_000 }, () => {
  before(() => {
    assert.ok(haveCluster(), `no cluster reachable with KUBECONFIG=${env.KUBECONFIG}`);
    ns = createNamespace('netdiag-outputs');
    kubectlOk(['apply', '-f', '-'], dnsLoopPod(ns, 'dnsloop'));
    waitPodsReady(ns, 'app=dnsloop', 1);
  });

  after(() => tearDown(dir, [ns]));

  it('a failing filter leaves a pre-existing file as it was', async () => {
    const file = path.join(dir, 'existing.pcap');
    writeFileSync(file, PRECIOUS);
    const run = await sniff(file, '-f', BAD_FILTER).done;
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /error: tcpdump: unknown port 'fifty'/);
    assert.equal(readFileSync(file, 'utf8'), PRECIOUS);
  });

  it('a failing filter creates nothing at a path that did not exist', async () => {
    const file = path.join(dir, 'new.pcap');
    const run = await sniff(file, '-f', BAD_FILTER).done;
    assert.equal(run.status, 2, run.stderr);
    assert.equal(existsSync(file), false);
  });

  it('a failing filter leaves a character device made with mknod a character device', async () => {
    const device = path.join(dir, 'null');
    const made = spawnSync('mknod', ['-m', '666', device, 'c', '1', '3'], { encoding: 'utf8' });
    assert.equal(made.status, 0, `mknod (the e2e tests run as root): ${made.stderr}`);
    const run = await sniff(device, '-f', BAD_FILTER).done;
    assert.equal(run.status, 2, run.stderr);
    assert.ok(statSync(device).isCharacterDevice(), 'the device node is still there');
    // A capture only for its statistics: written to the device, which stays.
    const ok = await sniff(device, '-f', 'port 53', '--count', '3').done;
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /captured 3 packets/);
    assert.ok(statSync(device).isCharacterDevice());
  });

  it('a failing filter leaves a FIFO a FIFO (its reader sees the end of input)', async () => {
    const fifo = path.join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let read = 0;
    reader.stdout.on('data', (d: Buffer) => (read += d.length));
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const run = await sniff(fifo, '-f', BAD_FILTER).done;
    assert.equal(run.status, 2, run.stderr);
    await readerDone;
    assert.equal(read, 0, 'nothing was captured, nothing was written');
    assert.ok(statSync(fifo).isFIFO(), 'the FIFO is still there');
  });

  it('Ctrl-C before the first packet leaves a pre-existing file untouched', async () => {
    const file = path.join(dir, 'keep.pcap');
    writeFileSync(file, PRECIOUS);
    // A filter nothing on the lab matches: the capture listens and never sees a packet.
    const capture = sniff(file, '-f', 'udp port 9');
    await waitFor('the capture to listen', () => /capturing /.test(capture.stderrSoFar()), 120_000);
    await new Promise((r) => setTimeout(r, 2000));
    capture.child.kill('SIGINT');
    const run = await capture.done;
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /nothing written to /);
    assert.equal(readFileSync(file, 'utf8'), PRECIOUS);
  });

  it('a capture that works replaces an existing file with a valid capture', async () => {
    const file = path.join(dir, 'replaced.pcap');
    writeFileSync(file, PRECIOUS.repeat(1000));
    const run = await sniff(file, '-f', 'port 53', '--count', '5').done;
    assert.equal(run.status, 0, run.stderr);
    const bytes = readFileSync(file);
    assert.equal(bytes.readUInt32LE(0), 0xa1b2c3d4, 'a classic pcap from byte 0');
    assert.equal(bytes.includes(Buffer.from('precious')), false, 'no tail of the old content');
    const info = capinfos(file);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /Number of packets:\s+5\b/);
  });
});
