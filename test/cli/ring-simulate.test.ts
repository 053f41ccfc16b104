// `qkv ring simulate` as a user meets it: flags checked with one clear line and exit
// code 2, a table or JSON on success — in-process and through the real `qkv` entry point.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { EXIT_USAGE, runRingSimulate } from '../../src/cli/commands/ring-simulate.js';
import { REPLICATION_FACTOR_MAX, RING_TOKENS_MAX } from '../../src/limits.js';
import type { SimulationResult } from '../../src/ring/ring-simulation.js';

const run = promisify(execFile);
const CHILD_TIMEOUT_MS = 20_000;
const mainPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

async function simulate(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Collector();
  const err = new Collector();
  const code = await runRingSimulate(argv, out, err);
  return { code, out: out.text, err: err.text };
}

describe('qkv ring simulate', () => {
  const badFlags: Array<[string[], RegExp]> = [
    [['--nodes', '0'], /--nodes must be an integer from 1 to 4095, got "0"/],
    [['--nodes', 'ten'], /--nodes must be an integer/],
    [['--keys', '1e6'], /--keys must be an integer from 1 to 10000000, got "1e6"/],
    [['--keys', '-5'], /--keys/],
    [['--vnodes', '4097'], /--vnodes must be an integer from 1 to 4096/],
    [['--replicas', String(REPLICATION_FACTOR_MAX + 1)], new RegExp(`--replicas must be an integer from 1 to ${REPLICATION_FACTOR_MAX}, got "${REPLICATION_FACTOR_MAX + 1}"`)],
    [['--strategy', 'jump'], /--strategy must be one of modulo, consistent, virtual, all, got "jump"/],
    [['--nodes', '2000', '--vnodes', '4096'], new RegExp(`needs 8196096 tokens \\(with the added node\\); the limit is ${RING_TOKENS_MAX}`)],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--nodes'], /argument missing/],
    [['extra'], /Unexpected argument 'extra'/],
    [['--json=yes'], /does not take an argument/],
    [['--node-prefix', 'x'.repeat(252)], /--node-prefix must be at most 251 bytes with --nodes 10/],
  ];
  for (const [argv, pattern] of badFlags) {
    it(`refuses ${argv.join(' ')} with one line and exit code 2`, async () => {
      const { code, out, err } = await simulate(argv);
      assert.equal(code, EXIT_USAGE);
      assert.equal(out, '');
      assert.match(err, pattern);
      assert.match(err, /^qkv ring simulate: [^\n]+\n$/, 'exactly one line');
    });
  }

  it('prints one JSON document with --json', async () => {
    const { code, out, err } = await simulate(['--nodes', '5', '--keys', '3000', '--vnodes', '8', '--json']);
    assert.equal(code, 0);
    assert.equal(err, '');
    const result = JSON.parse(out) as SimulationResult;
    assert.equal(result.nodes, 5);
    assert.equal(result.keys, 3000);
    assert.deepEqual(result.results.map((entry) => entry.strategy), ['modulo', 'consistent', 'virtual']);
    const virtual = result.results[2]!;
    assert.equal(virtual.tokensPerNode, 8);
    assert.equal(virtual.primaryLoad.perNode.length, 5);
    assert.equal(virtual.addOneNode.node, 'node-5');
    assert.ok(Math.abs(virtual.addOneNode.idealPercent - 100 / 6) < 1e-9);
  });

  it('prints tables for people, one strategy when asked', async () => {
    const { code, out } = await simulate(['--strategy', 'virtual', '--nodes', '4', '--keys', '2000', '--vnodes', '16']);
    assert.equal(code, 0);
    assert.match(out, /^qkv ring simulate: 4 nodes \(node-0..node-3\), 2000 keys, 3 replicas per key, 16 vnodes/);
    assert.match(out, /Load per node/);
    assert.match(out, /virtual \(16 tokens\/node\)\s+primary\s+\d+\s+\d+\s+500\.0\s+[\d.]+%\s+[\d.]+/);
    assert.match(out, /Keys moved: add one node \(4 -> 5\), remove one node \(4 -> 3\)/);
    assert.doesNotMatch(out, /modulo/);
  });

  it('names the nodes with --node-prefix, which changes the virtual-node tokens', async () => {
    const run = async (prefix: string) => {
      const { code, out } = await simulate(['--strategy', 'virtual', '--nodes', '4', '--keys', '2000', '--vnodes', '4', '--node-prefix', prefix, '--json']);
      assert.equal(code, 0);
      return JSON.parse(out) as SimulationResult;
    };
    const statefulSet = await run('quorumkv-');
    assert.equal(statefulSet.nodePrefix, 'quorumkv-');
    assert.equal(statefulSet.results[0]!.addOneNode.node, 'quorumkv-4');
    const other = await run('db-');
    assert.notDeepEqual(other.results[0]!.primaryLoad.perNode, statefulSet.results[0]!.primaryLoad.perNode);
  });

  it('prints its usage with --help', async () => {
    const { code, out } = await simulate(['--help']);
    assert.equal(code, 0);
    assert.match(out, /^usage: qkv ring simulate/);
  });

  it('runs through the qkv entry point and refuses unknown commands', async () => {
    const { stdout } = await run(process.execPath, [mainPath, 'ring', 'simulate', '--nodes', '3', '--keys', '1000', '--vnodes', '4', '--json'], { timeout: CHILD_TIMEOUT_MS });
    assert.equal((JSON.parse(stdout) as SimulationResult).nodes, 3);
    await assert.rejects(run(process.execPath, [mainPath, 'ring', 'simulate', '--nodes', 'x'], { timeout: CHILD_TIMEOUT_MS }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /--nodes must be an integer/);
      return true;
    });
    await assert.rejects(run(process.execPath, [mainPath, 'bogus'], { timeout: CHILD_TIMEOUT_MS }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /^qkv: unknown command "bogus"/);
      return true;
    });
  });
});
