// The same members give the same ring in every process. A child `node` process builds
// the ring from the members in reverse order and prints its digest, every owned range
// and the preference lists of some keys; the parent builds it again and compares.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HashRing } from '../../src/ring/hash-ring.js';
import type { RingMember } from '../../src/ring/ring-member.js';
import { loadXxHash64 } from '../../src/ring/token-hasher.js';
import { referenceXxh64 } from './reference-xxh64.js';

const run = promisify(execFile);
const CHILD_TIMEOUT_MS = 20_000;

const members: RingMember[] = Array.from({ length: 12 }, (_, index) => ({
  id: `quorumkv-${index}`,
  ...(index % 4 === 3 ? {} : { zone: `zone-${index % 3}` }),
}));
const options = { vnodes: 32, replicationFactor: 3 };
const sampleKeys = Array.from({ length: 200 }, (_, index) => `user:${index}`);

interface RingSnapshot {
  digest: string;
  ranges: Array<[string, string, readonly string[]]>;
  keys: Array<readonly string[]>;
}

function snapshot(ring: HashRing): RingSnapshot {
  const utf8 = new TextEncoder();
  return {
    digest: ring.digest,
    ranges: ring.ownedRanges().map((owned) => [owned.range.start.toString(), owned.range.end.toString(), owned.replicas]),
    keys: sampleKeys.map((key) => ring.preferenceListForKey(utf8.encode(key))),
  };
}

// The child runs the compiled module by URL; it receives its inputs as JSON arguments.
const childScript = `
const [ringUrl, membersJson, optionsJson, keysJson] = process.argv.slice(1);
const { HashRing } = await import(ringUrl);
const ring = await HashRing.create(JSON.parse(membersJson), JSON.parse(optionsJson));
const utf8 = new TextEncoder();
process.stdout.write(JSON.stringify({
  digest: ring.digest,
  ranges: ring.ownedRanges().map((owned) => [owned.range.start.toString(), owned.range.end.toString(), owned.replicas]),
  keys: JSON.parse(keysJson).map((key) => ring.preferenceListForKey(utf8.encode(key))),
}));
`;

describe('ring determinism', () => {
  it('builds the same ring, digest included, in another process', async () => {
    const ringUrl = new URL('../../src/ring/hash-ring.js', import.meta.url).href;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', childScript, ringUrl, JSON.stringify([...members].reverse()), JSON.stringify(options), JSON.stringify(sampleKeys)],
      { timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    );
    const child = JSON.parse(stdout) as RingSnapshot;
    const local = snapshot(await HashRing.create(members, options));
    assert.equal(local.ranges.length, members.length * options.vnodes);
    assert.equal(child.digest, local.digest);
    assert.deepEqual(child.ranges, local.ranges);
    assert.deepEqual(child.keys, local.keys);
  });

  it('computes the digest over the documented canonical form and changes it with every input', async () => {
    const hash = await loadXxHash64();
    const ring = HashRing.build([{ id: 'b', zone: 'z' }, { id: 'a' }], { vnodes: 8, replicationFactor: 2 }, hash);
    const canonical = JSON.stringify(['qkv-ring', 1, 8, 2, [['a', null], ['b', 'z']]]);
    const expected = referenceXxh64(new TextEncoder().encode(canonical)).toString(16).padStart(16, '0');
    assert.equal(ring.digest, expected);
    assert.match(ring.digest, /^[0-9a-f]{16}$/);
    const variants = [
      HashRing.build([{ id: 'b', zone: 'y' }, { id: 'a' }], { vnodes: 8, replicationFactor: 2 }, hash),
      HashRing.build([{ id: 'b', zone: 'z' }, { id: 'a' }], { vnodes: 9, replicationFactor: 2 }, hash),
      HashRing.build([{ id: 'b', zone: 'z' }, { id: 'a' }], { vnodes: 8, replicationFactor: 3 }, hash),
      HashRing.build([{ id: 'b', zone: 'z' }, { id: 'c' }], { vnodes: 8, replicationFactor: 2 }, hash),
      HashRing.build([{ id: 'b', zone: 'z' }], { vnodes: 8, replicationFactor: 2 }, hash),
    ];
    for (const variant of variants) assert.notEqual(variant.digest, ring.digest);
  });
});
