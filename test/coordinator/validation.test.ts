// Bad input is refused whole, with its own error code, before any replica hears of it:
// after every refusal below no engine holds anything.
import assert from 'node:assert/strict';
import { describe, it, afterEach, beforeEach } from 'node:test';
import { HybridLogicalClock } from '../../src/clock/hybrid-logical-clock.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { naturalOnly } from '../../src/coordinator/coordinator-config.js';
import { LocalReplica } from '../../src/replica/local-replica.js';
import { isQkvError, QuorumInvalidError, type ErrorCode } from '../../src/errors/errors.js';
import { BATCH_ITEMS_MAX, KEY_BYTES_MAX_CEILING, KEY_BYTES_MAX_DEFAULT, TTL_MS_MAX, VALUE_BYTES_MAX_DEFAULT } from '../../src/limits.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStorageEngine } from '../../src/storage/memory/memory-storage-engine.js';
import { MemoryNetwork } from '../../src/transport/memory/memory-network.js';
import { MemoryCluster, testTokenOf } from '../support/memory-cluster.js';

const withCode = (code: ErrorCode) => (error: unknown) => isQkvError(error) && error.code === code;

describe('request validation', () => {
  let cluster: MemoryCluster;
  let messages: number;
  beforeEach(() => {
    messages = 0;
    cluster = new MemoryCluster({ nodes: 3, network: { observer: (event) => event.type === 'sent' && messages++ } });
  });
  afterEach(async () => {
    assert.equal(messages, 0, 'no message was sent for a refused request');
    assert.ok(cluster.nodes.every((node) => node.engine.size === 0), 'nothing was written');
    await cluster.close();
  });
  const coordinator = (): Coordinator => cluster.node('node-0').coordinator;
  const k = Buffer.from('k');
  const v = Buffer.from('v');

  for (const w of [-1, 4, 1.5, Number.NaN]) {
    it(`refuses W=${w} with QUORUM_INVALID naming N`, async () => {
      await assert.rejects(coordinator().put(k, v, { w }), (error: unknown) => {
        assert.ok(error instanceof QuorumInvalidError);
        assert.equal(error.quorum, 'w');
        assert.equal(error.replicationFactor, 3);
        assert.equal(error.name, 'QuorumInvalidError');
        return true;
      });
      await assert.rejects(coordinator().delete(k, { w }), withCode('QUORUM_INVALID'));
      await assert.rejects(coordinator().batchPut([{ key: k, value: v }], { w }), withCode('QUORUM_INVALID'));
    });
  }

  for (const r of [-1, 4, 2.5]) {
    it(`refuses R=${r} with QUORUM_INVALID`, async () => {
      await assert.rejects(coordinator().get(k, { r }), (error: unknown) => error instanceof QuorumInvalidError && error.quorum === 'r');
      await assert.rejects(coordinator().batchGet([k], { r }), withCode('QUORUM_INVALID'));
    });
  }

  it('refuses an empty key', async () => {
    await assert.rejects(coordinator().put(Buffer.alloc(0), v), withCode('KEY_EMPTY'));
    await assert.rejects(coordinator().get(Buffer.alloc(0)), withCode('KEY_EMPTY'));
    await assert.rejects(coordinator().delete(Buffer.alloc(0)), withCode('KEY_EMPTY'));
  });

  it('refuses a key one byte over the limit', async () => {
    const key = Buffer.alloc(KEY_BYTES_MAX_DEFAULT + 1, 1);
    await assert.rejects(coordinator().put(key, v), withCode('KEY_TOO_LARGE'));
    await assert.rejects(coordinator().get(key), withCode('KEY_TOO_LARGE'));
  });

  it('refuses a value one byte over the limit', async () => {
    await assert.rejects(coordinator().put(k, Buffer.alloc(VALUE_BYTES_MAX_DEFAULT + 1)), withCode('VALUE_TOO_LARGE'));
  });

  it('refuses keys and values that are not bytes', async () => {
    await assert.rejects(coordinator().put('k' as unknown as Buffer, v), withCode('INVALID_ARGUMENT'));
    await assert.rejects(coordinator().put(k, 'v' as unknown as Buffer), withCode('INVALID_ARGUMENT'));
  });

  for (const ttlMs of [-1, 0.5, TTL_MS_MAX + 1]) {
    it(`refuses ttlMs=${ttlMs}`, async () => {
      await assert.rejects(coordinator().put(k, v, { ttlMs }), withCode('INVALID_ARGUMENT'));
    });
  }

  it('refuses a batch over the limit, and a batch with one bad item, whole', async () => {
    const items = Array.from({ length: BATCH_ITEMS_MAX + 1 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: v }));
    await assert.rejects(coordinator().batchPut(items), withCode('BATCH_TOO_LARGE'));
    await assert.rejects(coordinator().batchGet(items.map((item) => item.key)), withCode('BATCH_TOO_LARGE'));
    const oneBad = [{ key: k, value: v }, { key: Buffer.alloc(0), value: v }];
    await assert.rejects(coordinator().batchPut(oneBad), withCode('KEY_EMPTY'));
  });

  it('refuses a deadline that is not a time', async () => {
    await assert.rejects(coordinator().put(k, v, { deadlineMs: Number.POSITIVE_INFINITY }), withCode('INVALID_ARGUMENT'));
  });
});

describe('configured limits', () => {
  it('applies a configured key limit below the default', async () => {
    const cluster = new MemoryCluster({ nodes: 3, coordinator: { keyBytesMax: 4, valueBytesMax: 2 } });
    const coordinator = cluster.node('node-0').coordinator;
    await coordinator.put(Buffer.from('four'), Buffer.from('ok'));
    await assert.rejects(coordinator.put(Buffer.from('fiver'), Buffer.from('ok')), withCode('KEY_TOO_LARGE'));
    await assert.rejects(coordinator.put(Buffer.from('four'), Buffer.from('big')), withCode('VALUE_TOO_LARGE'));
    await cluster.close();
  });

  it('refuses settings outside their ceilings with CONFIG_INVALID', () => {
    const engine = new MemoryStorageEngine(testTokenOf);
    const clock = new HybridLogicalClock();
    const ports = {
      placement: () => naturalOnly(['a']),
      transport: new MemoryNetwork().transport('a'),
      localReplica: new LocalReplica(engine, clock),
      clock,
      logger: silentLogger,
    };
    const make = (config: Partial<ConstructorParameters<typeof Coordinator>[0]>) => () =>
      new Coordinator({ nodeId: 'a', replicationFactor: 3, ...config }, ports);
    assert.throws(make({ keyBytesMax: KEY_BYTES_MAX_CEILING + 1 }), withCode('CONFIG_INVALID'));
    assert.throws(make({ writeQuorum: 4 }), withCode('CONFIG_INVALID'));
    assert.throws(make({ readQuorum: 0 }), withCode('CONFIG_INVALID'));
    assert.throws(make({ replicationFactor: 0 }), withCode('CONFIG_INVALID'));
    assert.throws(make({ inFlightRequestsMax: 0 }), withCode('CONFIG_INVALID'));
    assert.throws(make({ nodeId: '' }), withCode('CONFIG_INVALID'));
    assert.equal(make({})().config.writeQuorum, 2, 'W defaults to a majority');
    assert.equal(make({ replicationFactor: 5 })().config.readQuorum, 3, 'R defaults to a majority');
  });
});
