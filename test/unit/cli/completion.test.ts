import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Directive,
  planCompletion,
  renderCompletion,
  type CompletionCommand,
  type CompletionFlag,
} from '../../../src/cli/completion.js';

const globals: CompletionFlag[] = [
  { name: 'namespace', char: 'n', takesValue: true },
  { name: 'context', takesValue: true },
  { name: 'kubeconfig', takesValue: true },
  { name: 'verbose', char: 'v', takesValue: false },
];
const commands: CompletionCommand[] = [
  {
    id: 'cleanup',
    flags: [
      ...globals,
      { name: 'output', char: 'o', takesValue: true, options: ['table', 'json'] },
      { name: 'all-namespaces', char: 'A', takesValue: false },
    ],
    args: [],
  },
  { id: 'sniff', flags: [...globals, { name: 'node', takesValue: true }], args: [{ name: 'target' }] },
  { id: 'dns', flags: [...globals, { name: 'nodes', takesValue: true }], args: [] },
  { id: 'node:check', flags: globals, args: [{ name: 'node' }] },
];

describe('planCompletion', () => {
  it('completes top-level commands (first word of multi-word ids) and help', () => {
    assert.deepEqual(planCompletion(commands, globals, ['']), {
      kind: 'static',
      candidates: ['cleanup', 'dns', 'help', 'node', 'sniff'],
      directive: Directive.NoFileComp,
    });
    assert.deepEqual(planCompletion(commands, globals, ['s']), {
      kind: 'static',
      candidates: ['sniff'],
      directive: Directive.NoFileComp,
    });
    assert.deepEqual(planCompletion(commands, globals, ['node', '']), {
      kind: 'static',
      candidates: ['check'],
      directive: Directive.NoFileComp,
    });
  });
  it('completes flags of the command', () => {
    const plan = planCompletion(commands, globals, ['cleanup', '--a']);
    assert.deepEqual(plan, { kind: 'static', candidates: ['--all-namespaces'], directive: Directive.NoFileComp });
  });
  it('completes fixed option values, also in --flag= form', () => {
    assert.deepEqual(planCompletion(commands, globals, ['cleanup', '-o', 'j']), {
      kind: 'static',
      candidates: ['json'],
      directive: Directive.NoFileComp,
    });
    assert.deepEqual(planCompletion(commands, globals, ['cleanup', '--output=t']), {
      kind: 'static',
      candidates: ['--output=table'],
      directive: Directive.NoFileComp,
    });
  });
  it('asks the cluster for namespaces, nodes and pods, carrying access flags typed earlier', () => {
    assert.deepEqual(planCompletion(commands, globals, ['sniff', '--context', 'lab', '-n', 'kube']), {
      kind: 'cluster',
      source: 'namespaces',
      prefix: 'kube',
      access: { context: 'lab' },
      candidatePrefix: '',
    });
    assert.deepEqual(planCompletion(commands, globals, ['sniff', '-n', 'prod', 'we']), {
      kind: 'cluster',
      source: 'pods',
      prefix: 'we',
      access: { namespace: 'prod' },
      candidatePrefix: '',
    });
    const node = planCompletion(commands, globals, ['sniff', '--node', '']);
    assert.equal(node.kind === 'cluster' && node.source, 'nodes');
    const positionalNode = planCompletion(commands, globals, ['node', 'check', 'w']);
    assert.equal(positionalNode.kind === 'cluster' && positionalNode.source, 'nodes');
  });
  it('completes the last name of a --nodes list, keeping the names typed before it', () => {
    assert.deepEqual(planCompletion(commands, globals, ['dns', '--nodes', 'worker1,wor']), {
      kind: 'cluster',
      source: 'nodes',
      prefix: 'wor',
      access: {},
      candidatePrefix: 'worker1,',
    });
    assert.deepEqual(planCompletion(commands, globals, ['dns', '--nodes=a,b,']), {
      kind: 'cluster',
      source: 'nodes',
      prefix: '',
      access: {},
      candidatePrefix: '--nodes=a,b,',
    });
  });
  it('completes kind/name targets with the kind kept in the candidates', () => {
    assert.deepEqual(planCompletion(commands, globals, ['sniff', 'node/wor']), {
      kind: 'cluster',
      source: 'nodes',
      prefix: 'wor',
      access: {},
      candidatePrefix: 'node/',
    });
    const service = planCompletion(commands, globals, ['sniff', '-n', 'kube-system', 'svc/']);
    assert.deepEqual(service, {
      kind: 'cluster',
      source: 'services',
      prefix: '',
      access: { namespace: 'kube-system' },
      candidatePrefix: 'svc/',
    });
  });

  it('lets the shell complete files for --kubeconfig and stops after the last positional', () => {
    assert.deepEqual(planCompletion(commands, globals, ['cleanup', '--kubeconfig', '']), {
      kind: 'static',
      candidates: [],
      directive: Directive.Default,
    });
    assert.deepEqual(planCompletion(commands, globals, ['sniff', 'web-1', '']), {
      kind: 'static',
      candidates: [],
      directive: Directive.NoFileComp,
    });
  });
  it('renders cobra’s format', () => {
    assert.equal(renderCompletion(['a', 'b'], 4), 'a\nb\n:4\n');
    assert.equal(renderCompletion([], 0), ':0\n');
  });
});
