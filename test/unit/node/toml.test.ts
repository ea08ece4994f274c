import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitTomlKey, TomlDocument } from '../../../src/node/toml.js';

describe('splitTomlKey', () => {
  const cases: [string, string[]][] = [
    ['a.b', ['a', 'b']],
    ['plugins."io.containerd.grpc.v1.cri".cni', ['plugins', 'io.containerd.grpc.v1.cri', 'cni']],
    ["plugins.'io.containerd.cri.v1.runtime'.cni", ['plugins', 'io.containerd.cri.v1.runtime', 'cni']],
    [' spaced . key ', ['spaced', 'key']],
  ];
  for (const [key, parts] of cases) it(key, () => assert.deepEqual(splitTomlKey(key), parts));
});

describe('TomlDocument', () => {
  const doc = TomlDocument.parse(
    [
      'version = 3 # containerd 2.x',
      'root = "/var/lib/containerd"',
      "state = '/run/containerd'",
      '[grpc]',
      '  address = "/run/containerd/containerd.sock"',
      "[plugins.'io.containerd.cri.v1.runtime'.cni]",
      '  bin_dirs = [',
      '    "/opt/cni/bin", # the default',
      "    '/usr/lib/cni',",
      '  ]',
      '  conf_dir = "/etc/cni/net.d"',
      '  max_conf_num = 1',
      '  setup_serially = false',
      '[[plugins.unknown.array]]',
      '  conf_dir = "not this one"',
      '[crio.network]',
      'network_dir = "/etc/cni/net.d/" # a "#" inside a comment',
      'note = "a # inside a string"',
      'inline = { a = 1 }',
    ].join('\n'),
  );
  it('reads strings, numbers, booleans and string arrays under their tables', () => {
    assert.equal(doc.number(['version']), 3);
    assert.equal(doc.string(['state']), '/run/containerd');
    assert.equal(doc.string(['grpc', 'address']), '/run/containerd/containerd.sock');
    const cni = ['plugins', 'io.containerd.cri.v1.runtime', 'cni'];
    assert.deepEqual(doc.strings([...cni, 'bin_dirs']), ['/opt/cni/bin', '/usr/lib/cni']);
    assert.equal(doc.string([...cni, 'conf_dir']), '/etc/cni/net.d');
    assert.equal(doc.get([...cni, 'setup_serially']), false);
    assert.equal(doc.string(['crio', 'network', 'network_dir']), '/etc/cni/net.d/');
    assert.equal(doc.string(['crio', 'network', 'note']), 'a # inside a string');
  });
  it('a single string reads as a list of one; values it does not understand are left out', () => {
    assert.deepEqual(doc.strings(['grpc', 'address']), ['/run/containerd/containerd.sock']);
    assert.equal(doc.get(['crio', 'network', 'inline']), undefined);
    assert.equal(doc.get(['plugins', 'unknown', 'array', 'conf_dir']), undefined);
  });
});
