// The contract every KvClient (src/kv/kv-client.ts) keeps, exported abstract-level
// style: kv-client-contract.test.ts runs it over a Coordinator in this process (a
// MemoryNetwork cluster on virtual time) and over the gRPC client against real node
// processes. It pins what a program may rely on, whichever it talks to:
// - writes and reads meet their quorums and say how many replicas answered;
// - the last writer wins: a later put has a later version, and reads return it;
// - delete writes a tombstone (a later version) and reads then find nothing, until a
//   newer put;
// - a TTL'd value is found until its TTL has passed, then not;
// - batches answer per item, in order, with the same types as the single calls;
// - input the cluster refuses fails with the stable code the README lists, whichever
//   side checks it (client, wire or coordinator);
// - a call whose quorum does not answer within its timeoutMs fails DEADLINE_EXCEEDED;
// - a quorum that cannot be met fails QUORUM_NOT_MET, while a smaller one still succeeds.
//
// One cluster serves every test of a suite (a process cluster takes seconds to start), so
// each test uses keys of its own; the test that takes a replica away runs last.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isQkvError, type ErrorCode } from '../../src/errors/errors.js';
import { BATCH_ITEMS_MAX, KEY_BYTES_MAX_DEFAULT, TTL_MS_MAX, VALUE_BYTES_MAX_DEFAULT } from '../../src/limits.js';
import type { KvClient, KvRead, KvVersion } from '../../src/kv/kv-client.js';

export interface KvClusterUnderTest {
  readonly client: KvClient;
  /** N: how many replicas hold every key. The cluster's default limits apply. */
  readonly replicationFactor: number;
  /** Lets `ms` of the cluster's time pass: virtual time in process, a real wait across processes. */
  passTime(ms: number): Promise<void>;
  /**
   * Makes one replica (not the one the client talks to) silent: messages reach it and it
   * never answers. Resolves with the way to make it answer again.
   */
  silenceReplica(): Promise<() => Promise<void>>;
  /** Makes one replica unreachable for the rest of the suite (not the one the client talks to). */
  loseReplica(): Promise<void>;
  close(): Promise<void>;
}

export type MakeKvCluster = () => Promise<KvClusterUnderTest>;

/** Later means: a higher stamp, or the same stamp from a higher node id (last writer wins). */
function isLater(a: KvVersion, b: KvVersion): boolean {
  return a.stamp > b.stamp || (a.stamp === b.stamp && a.nodeId > b.nodeId);
}

function foundValue(read: KvRead): string | undefined {
  return read.found ? read.value.toString() : undefined;
}

const failsWith =
  (code: ErrorCode) =>
  (error: unknown): boolean => {
    assert.ok(isQkvError(error), `a QkvError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };

export function kvClientContract(name: string, makeKvCluster: MakeKvCluster): void {
  describe(`KvClient contract: ${name}`, () => {
    let cluster: KvClusterUnderTest;
    let client: KvClient;
    let n: number;
    const key = (name: string): Buffer => Buffer.from(`contract/${name}`);

    before(async () => {
      cluster = await makeKvCluster();
      client = cluster.client;
      n = cluster.replicationFactor;
    });
    after(async () => {
      await cluster.close();
    });

    it('a put is read back with its version, each call meeting its quorum', async () => {
      const written = await client.put(key('basic'), Buffer.from('hello'), { w: n });
      assert.equal(written.acks, n, 'W=N waits for every replica');
      const read = await client.get(key('basic'), { r: n });
      assert.equal(read.acks, n);
      assert.ok(read.found);
      assert.equal(read.value.toString(), 'hello');
      assert.deepEqual(read.version, written.version);
    });

    it('the default quorums are met without naming them', async () => {
      const written = await client.put(key('defaults'), Buffer.from('v'));
      assert.ok(written.acks >= 1 && written.acks <= n);
      const read = await client.get(key('defaults'));
      assert.ok(read.acks >= 1 && read.acks <= n);
      assert.equal(foundValue(read), 'v');
    });

    it('a key never written is not found', async () => {
      const read = await client.get(key('never-written'), { r: n });
      assert.deepEqual(read, { found: false, acks: n });
    });

    it('the last writer wins: a later put has a later version and is what reads return', async () => {
      const first = await client.put(key('lww'), Buffer.from('first'), { w: n });
      const second = await client.put(key('lww'), Buffer.from('second'), { w: n });
      assert.ok(isLater(second.version, first.version), 'the second write has the later version');
      const read = await client.get(key('lww'), { r: 1 });
      assert.equal(foundValue(read), 'second');
      assert.deepEqual(read.found && read.version, second.version);
    });

    it('delete writes a later tombstone: the key is not found until a newer put', async () => {
      const put = await client.put(key('deleted'), Buffer.from('doomed'), { w: n });
      const deleted = await client.delete(key('deleted'), { w: n });
      assert.equal(deleted.acks, n);
      assert.ok(isLater(deleted.version, put.version));
      assert.deepEqual(await client.get(key('deleted'), { r: n }), { found: false, acks: n });
      const revived = await client.put(key('deleted'), Buffer.from('back'), { w: n });
      assert.ok(isLater(revived.version, deleted.version));
      assert.equal(foundValue(await client.get(key('deleted'), { r: n })), 'back');
    });

    it('deleting a key never written is a tombstone like any other', async () => {
      const deleted = await client.delete(key('delete-unknown'), { w: n });
      assert.equal(deleted.acks, n);
      assert.equal((await client.get(key('delete-unknown'))).found, false);
    });

    it('a value with a TTL is found until the TTL has passed, then not', async () => {
      const ttlMs = 400;
      await client.put(key('ttl'), Buffer.from('short-lived'), { w: n, ttlMs });
      await client.put(key('ttl-forever'), Buffer.from('stays'), { w: n });
      assert.equal(foundValue(await client.get(key('ttl'), { r: n })), 'short-lived');
      await cluster.passTime(ttlMs + 100);
      assert.equal((await client.get(key('ttl'), { r: n })).found, false, 'expired');
      assert.equal(foundValue(await client.get(key('ttl-forever'), { r: n })), 'stays');
    });

    it('batchPut and batchGet answer per item, in order, like the single calls', async () => {
      const items = [0, 1, 2, 3].map((i) => ({ key: key(`batch-${i}`), value: Buffer.from(`value-${i}`) }));
      const written = await client.batchPut(items, { w: n });
      assert.equal(written.length, items.length);
      for (const result of written) {
        assert.ok(result.ok);
        assert.equal(result.acks, n);
      }
      await client.delete(key('batch-2'), { w: n });
      const read = await client.batchGet([key('batch-0'), key('batch-never'), key('batch-2'), key('batch-3'), key('batch-0')], { r: n });
      assert.deepEqual(
        read.map((result) => (result.ok ? foundValue(result) ?? null : result.error.code)),
        ['value-0', null, null, 'value-3', 'value-0'],
      );
      const first = read[0]!;
      assert.ok(first.ok && first.found);
      assert.deepEqual(first.version, written[0]!.ok && written[0]!.version);
      for (const result of read) assert.equal(result.acks, n);
    });

    it('a batch that writes one key twice keeps the later item', async () => {
      const written = await client.batchPut([
        { key: key('batch-twice'), value: Buffer.from('earlier') },
        { key: key('batch-twice'), value: Buffer.from('later') },
      ]);
      assert.ok(written[0]!.ok && written[1]!.ok && isLater(written[1]!.version, written[0]!.version));
      assert.equal(foundValue(await client.get(key('batch-twice'), { r: n })), 'later');
    });

    it('batch items with a TTL expire on their own', async () => {
      await client.batchPut(
        [
          { key: key('batch-ttl'), value: Buffer.from('brief'), ttlMs: 400 },
          { key: key('batch-no-ttl'), value: Buffer.from('lasting') },
        ],
        { w: n },
      );
      await cluster.passTime(500);
      const read = await client.batchGet([key('batch-ttl'), key('batch-no-ttl')], { r: n });
      assert.deepEqual(
        read.map((result) => result.ok && result.found),
        [false, true],
      );
    });

    it('refuses an empty key with KEY_EMPTY and a key over the limit with KEY_TOO_LARGE', async () => {
      await assert.rejects(client.put(Buffer.alloc(0), Buffer.from('v')), failsWith('KEY_EMPTY'));
      await assert.rejects(client.get(Buffer.alloc(0)), failsWith('KEY_EMPTY'));
      await assert.rejects(client.delete(Buffer.alloc(0)), failsWith('KEY_EMPTY'));
      await assert.rejects(client.put(Buffer.alloc(KEY_BYTES_MAX_DEFAULT + 1, 'k'), Buffer.from('v')), failsWith('KEY_TOO_LARGE'));
      await assert.rejects(client.batchGet([key('fine'), Buffer.alloc(KEY_BYTES_MAX_DEFAULT + 1, 'k')]), failsWith('KEY_TOO_LARGE'));
      // A key at the limit is fine.
      await client.put(Buffer.alloc(KEY_BYTES_MAX_DEFAULT, 'k'), Buffer.from('v'));
    });

    it('refuses a value over the limit with VALUE_TOO_LARGE, in a put and in a batch', async () => {
      const tooLarge = Buffer.alloc(VALUE_BYTES_MAX_DEFAULT + 1);
      await assert.rejects(client.put(key('big'), tooLarge), failsWith('VALUE_TOO_LARGE'));
      await assert.rejects(client.batchPut([{ key: key('big'), value: tooLarge }]), failsWith('VALUE_TOO_LARGE'));
      assert.equal((await client.get(key('big'))).found, false, 'nothing of a refused batch was written');
    });

    it('refuses W or R outside 1..N with QUORUM_INVALID', async () => {
      await assert.rejects(client.put(key('quorum'), Buffer.from('v'), { w: n + 1 }), failsWith('QUORUM_INVALID'));
      await assert.rejects(client.get(key('quorum'), { r: n + 1 }), failsWith('QUORUM_INVALID'));
      await assert.rejects(client.batchPut([{ key: key('quorum'), value: Buffer.from('v') }], { w: n + 1 }), failsWith('QUORUM_INVALID'));
      await assert.rejects(client.batchGet([key('quorum')], { r: n + 1 }), failsWith('QUORUM_INVALID'));
    });

    it('refuses a batch of more than BATCH_ITEMS_MAX items with BATCH_TOO_LARGE', async () => {
      const keys = Array.from({ length: BATCH_ITEMS_MAX + 1 }, (_, i) => key(`too-many-${i}`));
      await assert.rejects(client.batchGet(keys), failsWith('BATCH_TOO_LARGE'));
      await assert.rejects(client.batchPut(keys.map((k) => ({ key: k, value: Buffer.from('v') }))), failsWith('BATCH_TOO_LARGE'));
      await client.batchGet(keys.slice(0, BATCH_ITEMS_MAX)); // exactly the limit is fine
    });

    it('refuses a TTL beyond TTL_MS_MAX with INVALID_ARGUMENT', async () => {
      await assert.rejects(client.put(key('ttl-too-long'), Buffer.from('v'), { ttlMs: TTL_MS_MAX + 1 }), failsWith('INVALID_ARGUMENT'));
    });

    it('a write or read whose quorum stays silent fails DEADLINE_EXCEEDED at its timeoutMs', async () => {
      await client.put(key('silent'), Buffer.from('v'), { w: n });
      const speak = await cluster.silenceReplica();
      try {
        const timeoutMs = 300;
        const put = client.put(key('silent'), Buffer.from('w'), { w: n, timeoutMs });
        const get = client.get(key('silent'), { r: n, timeoutMs });
        put.catch(() => {});
        get.catch(() => {});
        await cluster.passTime(timeoutMs + 50);
        await assert.rejects(put, failsWith('DEADLINE_EXCEEDED'));
        await assert.rejects(get, failsWith('DEADLINE_EXCEEDED'));
        assert.equal(foundValue(await client.get(key('silent'), { r: n - 1, timeoutMs: 5_000 })), 'w', 'W-1 replicas took the write');
      } finally {
        await speak();
      }
    });

    // Last: the replica stays lost.
    it('with a replica lost, W=N fails QUORUM_NOT_MET and W=N-1 still succeeds', async () => {
      await client.put(key('lost'), Buffer.from('before'), { w: n - 1 });
      await cluster.loseReplica();
      await assert.rejects(client.put(key('lost'), Buffer.from('after'), { w: n }), failsWith('QUORUM_NOT_MET'));
      await assert.rejects(client.get(key('lost'), { r: n }), failsWith('QUORUM_NOT_MET'));
      const written = await client.put(key('lost'), Buffer.from('after'), { w: n - 1 });
      assert.equal(written.acks, n - 1);
      assert.equal(foundValue(await client.get(key('lost'), { r: n - 1 })), 'after');
      const batch = await client.batchPut([{ key: key('lost'), value: Buffer.from('batch') }], { w: n });
      assert.equal(batch.length, 1);
      const [item] = batch;
      assert.ok(item !== undefined && !item.ok, 'the item missed its quorum');
      assert.equal(item.error.code, 'QUORUM_NOT_MET');
      // It fails as soon as W is out of reach, with the acks in hand then: at most N-1.
      assert.ok(item.acks <= n - 1);
    });
  });
}
