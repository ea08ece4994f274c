import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pack } from 'tar-stream';
import {
  boundedCaptureArgv,
  CAPTURE_END_MARKER,
  idleArgv,
  isUsageFailure,
  nsenterArgv,
  STOP_LINE,
  tcpdumpArgv,
  tcpdumpErrorLines,
  uploadArgv,
} from '../../../src/sniff/tcpdump.js';

describe('tcpdump argv', () => {
  it('streams packet-buffered pcap to stdout on the chosen interface', () => {
    assert.deepEqual(
      tcpdumpArgv('tcpdump', {
        interface: 'any',
        filter: undefined,
        snaplen: undefined,
        count: undefined,
        immediate: false,
      }),
      ['tcpdump', '-U', '-n', '-w', '-', '-i', 'any'],
    );
  });

  it('adds --immediate-mode when asked (live viewers)', () => {
    assert.deepEqual(
      tcpdumpArgv('tcpdump', {
        interface: 'any',
        filter: undefined,
        snaplen: undefined,
        count: undefined,
        immediate: true,
      }).slice(0, 4),
      ['tcpdump', '-U', '-n', '--immediate-mode'],
    );
  });

  it('keeps the filter as ONE argument, quotes and all, after the options', () => {
    const argv = tcpdumpArgv('/tmp/x/tcpdump', {
      interface: 'eth0',
      filter: `port 53 and host 10.0.0.1 or 'quoted'"$(reboot)"`,
      snaplen: 96,
      count: 10,
      immediate: true,
    });
    assert.deepEqual(argv.slice(6), [
      '-i',
      'eth0',
      '-s',
      '96',
      '-c',
      '10',
      `port 53 and host 10.0.0.1 or 'quoted'"$(reboot)"`,
    ]);
  });

  it('passes the user argv as positional parameters of constant scripts', () => {
    const capture = tcpdumpArgv('tcpdump', {
      interface: 'any',
      filter: 'port 53; rm -rf /',
      snaplen: undefined,
      count: undefined,
      immediate: false,
    });
    const bounded = boundedCaptureArgv('sh', { limitSeconds: 10.2, stateDir: '/tmp/netdiag' }, capture);
    assert.equal(bounded[0], 'sh');
    assert.equal(bounded[1], '-c');
    assert.ok(!bounded[2]!.includes('port 53'), 'the script never contains user input');
    assert.deepEqual(bounded.slice(3, 8), ['netdiag-capture', '11', '/tmp/netdiag', '30', '600']);
    assert.deepEqual(bounded.slice(8), capture);
    const entered = nsenterArgv('containerd://abc', bounded);
    assert.deepEqual(entered.slice(3), ['netdiag-nsenter', 'containerd://abc', ...bounded]);
    assert.deepEqual(idleArgv('/tmp/netdiag', 600).slice(3), ['netdiag-idle', '/tmp/netdiag', '600']);
  });

  it('recognises tcpdump usage failures and strips its banner', () => {
    assert.ok(isUsageFailure("tcpdump: can't parse filter expression: syntax error\n"));
    assert.ok(isUsageFailure('tcpdump: illegal port number 99999 > 65535\n'));
    assert.ok(isUsageFailure('tcpdump: eth9: No such device exists\n(SIOCGIFHWADDR: No such device)\n'));
    assert.ok(!isUsageFailure("tcpdump: eth0: You don't have permission to perform this capture on that device\n"));
    assert.deepEqual(
      tcpdumpErrorLines(
        'tcpdump: listening on any, link-type LINUX_SLL2\n3 packets captured\n5 packets received by filter\n0 packets dropped by kernel\ntcpdump: boom\nnetdiag-capture-end 1\n',
      ),
      ['tcpdump: boom'],
    );
  });
});

/** Node mode's nsenter script, run here with a stand-in nsenter that prints its arguments. */
describe('nsenter script', () => {
  const bin = mkdtempSync(path.join(tmpdir(), 'netdiag-nsenter-'));
  writeFileSync(path.join(bin, 'nsenter'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  const run = (id: string) => {
    const argv = nsenterArgv(id, ['tcpdump', '-i', 'any']);
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
  };

  it('enters the network namespace of a process whose cgroup names the container', () => {
    // This process's own cgroup path (the longest, the most specific) stands for a container ID.
    const id = readFileSync('/proc/self/cgroup', 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(':').at(-1)!)
      .sort((a, b) => b.length - a.length)[0]!;
    const result = run(id);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^-t \d+ -n -- tcpdump -i any\n$/);
    const pid = /^-t (\d+)/.exec(result.stdout)![1]!;
    assert.ok(readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id));
  });

  it('says so when no process of the container runs here (exit 97)', () => {
    const result = run('no-such-container-0123456789abcdef');
    assert.equal(result.status, 97);
    assert.match(result.stderr, /no process of container no-such-container-0123456789abcdef runs on this node/);
  });
});

/** The wrapper is shell; run it for real against a fake capture command (sleep-like) with /bin/sh. */
describe('capture wrapper script', () => {
  const fakeCapture = [
    'sh',
    '-c',
    'trap "echo stopped-by-term; exit 0" TERM; echo started; while :; do sleep 0.1; done',
  ];

  /**
   * Runs the wrapper around the fake capture. Like the client, it closes stdin when the wrapper reports the end of
   * the capture on stderr, unless `ack` is false.
   */
  const run = (
    limit: number,
    hb: number,
    drive: (stdin: NodeJS.WritableStream) => void,
    { grace = 100, ack = true }: { grace?: number; ack?: boolean } = {},
  ) =>
    new Promise<{ code: number | null; out: string; err: string; ms: number; dir: string }>((resolve) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-wrapper-'));
      const argv = boundedCaptureArgv(
        'sh',
        { limitSeconds: limit, stateDir: dir, heartbeatTimeoutSeconds: hb, idleGraceSeconds: grace },
        fakeCapture,
      );
      const started = Date.now();
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (ack && err.includes(`${CAPTURE_END_MARKER} `)) child.stdin.end();
      });
      drive(child.stdin);
      child.on('exit', (code) => resolve({ code, out, err, ms: Date.now() - started, dir }));
    });

  it('stops the capture with SIGTERM on the stop line and leaves a grace lease', async () => {
    const result = await run(60, 30, (stdin) => setTimeout(() => stdin.write(STOP_LINE), 500));
    assert.equal(result.code, 0);
    assert.match(result.out, /started\nstopped-by-term/);
    assert.ok(result.ms < 5000, `took ${result.ms} ms`);
    const leases = readdirSync(result.dir).filter((f) => f.startsWith('capture.'));
    assert.equal(leases.length, 1);
    const until = Number(readFileSync(path.join(result.dir, leases[0]!), 'utf8'));
    assert.ok(until > Date.now() / 1000 + 50, 'lease extended by the idle grace');
  });

  it('with no idle grace (upload mode) removes its directory when the client is gone', async () => {
    const result = await run(60, 2, () => undefined, { grace: 0 });
    assert.match(result.out, /stopped-by-term/);
    assert.equal(existsSync(result.dir), false, 'the state directory (with the uploaded tcpdump) is removed');
  });

  it('reports the end of the capture and stays until the client closes stdin, at most the heartbeat timeout', async () => {
    const acked = await run(60, 30, (stdin) => setTimeout(() => stdin.write(STOP_LINE), 300));
    assert.match(acked.err, /^netdiag-capture-end 0$/m);
    assert.ok(acked.ms < 5000, `with the client's close it exits at once (took ${acked.ms} ms)`);
    const unacked = await run(60, 3, (stdin) => setTimeout(() => stdin.write(STOP_LINE), 300), { ack: false });
    assert.match(unacked.out, /stopped-by-term/);
    assert.ok(unacked.ms >= 3000 && unacked.ms < 9000, `without it, waits for the bound (took ${unacked.ms} ms)`);
  });

  it('stops when stdin closes (client gone)', async () => {
    const result = await run(60, 30, (stdin) => setTimeout(() => stdin.end(), 500));
    assert.match(result.out, /stopped-by-term/);
    assert.ok(result.ms < 5000);
  });

  it('stops when heartbeats stop arriving', async () => {
    const result = await run(60, 2, () => undefined);
    assert.match(result.out, /stopped-by-term/);
    assert.ok(result.ms >= 2000 && result.ms < 8000, `took ${result.ms} ms`);
  });

  it('stops at the hard limit even with heartbeats', async () => {
    let timer: NodeJS.Timeout | undefined;
    const result = await run(2, 30, (stdin) => {
      timer = setInterval(() => stdin.write('\n'), 300);
    });
    clearInterval(timer);
    assert.match(result.out, /stopped-by-term/);
    assert.ok(result.ms >= 2000 && result.ms < 6000, `took ${result.ms} ms`);
  });

  it('is not stopped by a heartbeat read racing its write (regression: an empty heartbeat file read as "none")', async () => {
    let timer: NodeJS.Timeout | undefined;
    const result = await run(60, 2, (stdin) => {
      timer = setInterval(() => stdin.write('\n'), 50);
      setTimeout(() => {
        clearInterval(timer);
        stdin.write(STOP_LINE);
      }, 6000);
    });
    assert.match(result.out, /stopped-by-term/);
    assert.ok(result.ms >= 6000, `stopped after ${result.ms} ms, before the stop line`);
  });

  it('passes the capture failure status through', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'netdiag-wrapper-'));
    const argv = boundedCaptureArgv('sh', { limitSeconds: 10, stateDir: dir }, [
      'sh',
      '-c',
      'echo "bad filter" >&2; exit 1',
    ]);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`${CAPTURE_END_MARKER} `)) child.stdin.end();
    });
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 1);
    assert.match(stderr, /bad filter/);
  });
});

/** Upload mode's upload, run for real with /bin/sh and tar on an archive made by tar-stream as the plugin does. */
describe('upload script', () => {
  const FAKE_TCPDUMP = '#!/bin/sh\necho fake tcpdump\n';
  const archive = async (content = FAKE_TCPDUMP): Promise<Buffer> => {
    const tar = pack();
    tar.entry({ name: 'tcpdump', mode: 0o755, mtime: new Date(0) }, content);
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  /** Runs the upload; resolves when the exec would end: the shell exited and its stdout and stderr are closed. */
  const upload = (dir: string, input: Buffer, windowSeconds: number) =>
    new Promise<{ code: number | null; ms: number; stderr: string }>((resolve) => {
      const argv = uploadArgv(dir, windowSeconds);
      const started = Date.now();
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, ms: Date.now() - started, stderr }));
      child.stdin.end(input);
    });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const uploadDir = (name: string) => path.join(mkdtempSync(path.join(tmpdir(), 'netdiag-upload-')), name);
  const watchdogRuns = (dir: string) => {
    try {
      process.kill(Number(readFileSync(path.join(dir, 'watchdog.pid'), 'utf8')), 0);
      return true;
    } catch {
      return false;
    }
  };

  it('extracts the archive, checks it runs, and ends the exec at once, leaving only its watchdog', async () => {
    const dir = uploadDir('netdiag-s1');
    const result = await upload(dir, await archive(), 30);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.ms < 2000, `the watchdog must not hold the exec's streams open (took ${result.ms} ms)`);
    assert.equal(readFileSync(path.join(dir, 'tcpdump'), 'utf8'), FAKE_TCPDUMP);
    assert.ok(watchdogRuns(dir), 'its pid is noted for the probe');
    rmSync(dir, { recursive: true });
  });

  it('removes the upload when no capture starts within the window (client killed in between)', async () => {
    const dir = uploadDir('netdiag-s2');
    await upload(dir, await archive(), 2);
    assert.ok(existsSync(path.join(dir, 'tcpdump')));
    await sleep(5000);
    assert.equal(existsSync(dir), false, 'the watchdog removed the directory');
  });

  it('keeps the upload while a capture lease is in the future, and removes it once the lease has run out', async () => {
    const dir = uploadDir('netdiag-s3');
    await upload(dir, await archive(), 1);
    // What the capture wrapper leaves when its capture has ended: a lease of the keep period (here 5 s).
    writeFileSync(path.join(dir, 'capture.4242'), String(Math.floor(Date.now() / 1000) + 5));
    await sleep(3500);
    assert.ok(existsSync(path.join(dir, 'tcpdump')), 'kept for the next capture');
    await sleep(6000);
    assert.equal(existsSync(dir), false, 'removed after the keep period');
  });

  it('a binary that does not run here fails with its message, and nothing is left', async () => {
    const dir = uploadDir('netdiag-s4');
    const result = await upload(dir, await archive('#!/bin/sh\necho "exec format error" >&2; exit 126\n'), 30);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /exec format error/);
    assert.equal(existsSync(dir), false);
  });

  it('removes a cut upload and fails', async () => {
    const dir = uploadDir('netdiag-s5');
    const whole = await archive();
    const result = await upload(dir, whole.subarray(0, 700), 30);
    assert.notEqual(result.code, 0);
    assert.equal(existsSync(dir), false);
  });
});
