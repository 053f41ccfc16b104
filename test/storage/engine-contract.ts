// The storage contract every StorageEngine backend must pass (abstract-level style: the
// suite is exported and each backend runs it with its own factory). It pins what the
// coordinator and the replicas rely on: last-writer-wins by (stamp, nodeId), tombstones
// that are records, TTL fields kept as written, and range scans in ring order with paging.
//
// The factory must build the engine with the token function it is given. The contract
// token of a key is its first 8 bytes read as a big-endian unsigned integer, so every test
// can place keys exactly where it wants on the ring. `cleanup` runs after every test,
// including the ones that already closed the engine, so it must tolerate a closed engine.
import assert from 'node:assert/strict';
import { describe, it, beforeEach, afterEach } from 'node:test';
import fc from 'fast-check';
import { isQkvError } from '../../src/errors/errors.js';
import { FULL_RING, TOKEN_MAX, rangeContains, type TokenFunction, type TokenRange } from '../../src/ring/token-range.js';
import { compareVersions, isTombstone, supersedes, type KvRecord } from '../../src/storage/record.js';
import type { ScanPage, StorageEngine } from '../../src/storage/storage-engine.js';
import { SCAN_PAGE_BYTES_MAX } from '../../src/limits.js';

export interface EngineUnderTest {
  engine: StorageEngine;
  cleanup(): Promise<void>;
}

export type EngineFactory = (options: { tokenOf: TokenFunction }) => Promise<EngineUnderTest>;

/** Token = the key's first 8 bytes, big-endian; shorter keys are padded with zeros. */
export const contractTokenOf: TokenFunction = (key) => {
  const head = Buffer.alloc(8);
  key.copy(head, 0, 0, Math.min(8, key.length));
  return head.readBigUInt64BE(0);
};

/** A key whose contract token is `token`, followed by `suffix`. */
export function keyAt(token: bigint, suffix: string | Buffer = ''): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(token);
  return Buffer.concat([head, typeof suffix === 'string' ? Buffer.from(suffix) : suffix]);
}

function record(key: Buffer, value: string | null, stamp: bigint, nodeId = 'node-a', expiresAtMs = 0): KvRecord {
  return { key, value: value === null ? null : Buffer.from(value), version: { stamp, nodeId }, expiresAtMs };
}

function tokens(records: readonly KvRecord[]): bigint[] {
  return records.map((r) => contractTokenOf(r.key));
}

async function scanAll(engine: StorageEngine, range: TokenRange, limit: number): Promise<{ records: KvRecord[]; pages: number }> {
  const records: KvRecord[] = [];
  let pages = 0;
  let page = engine.scan(range, limit);
  for (;;) {
    pages++;
    assert.ok(page.records.length <= limit, 'a page never holds more than the limit');
    records.push(...page.records);
    if (page.resumeAfter === undefined) return { records, pages };
    assert.ok(pages < 10_000, 'scan must terminate');
    page = engine.scan(range, limit, page.resumeAfter);
  }
}

/** Expected ring order of a scan: tokens after `start` ascending, then (when wrapping) from 0. */
function ringOrder(range: TokenRange, records: readonly KvRecord[]): KvRecord[] {
  const inRange = records.filter((r) => rangeContains(range, contractTokenOf(r.key)));
  const rank = (token: bigint): number => (range.start < range.end || token > range.start ? 0 : 1);
  return [...inRange].sort((a, b) => {
    const ta = contractTokenOf(a.key);
    const tb = contractTokenOf(b.key);
    if (rank(ta) !== rank(tb)) return rank(ta) - rank(tb);
    if (ta !== tb) return ta < tb ? -1 : 1;
    return Buffer.compare(a.key, b.key);
  });
}

export function storageEngineContract(name: string, factory: EngineFactory): void {
  describe(`storage engine contract: ${name}`, () => {
    let subject: EngineUnderTest;
    let engine: StorageEngine;

    beforeEach(async () => {
      subject = await factory({ tokenOf: contractTokenOf });
      engine = subject.engine;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe('put and get', () => {
      it('returns undefined for a key never written', () => {
        assert.equal(engine.get(Buffer.from('missing')), undefined);
      });

      it('returns the record as written, version and expiry included', async () => {
        const written = record(Buffer.from('k1'), 'v1', 10n, 'node-b', 0);
        const result = await engine.apply([written]);
        assert.deepEqual(result.applied, [true]);
        const read = engine.get(Buffer.from('k1'));
        assert.ok(read !== undefined);
        assert.deepEqual(read.key, written.key);
        assert.deepEqual(read.value, Buffer.from('v1'));
        assert.deepEqual(read.version, { stamp: 10n, nodeId: 'node-b' });
        assert.equal(read.expiresAtMs, 0);
      });

      it('keeps an empty value apart from a tombstone', async () => {
        await engine.apply([record(Buffer.from('empty'), '', 1n)]);
        const read = engine.get(Buffer.from('empty'));
        assert.ok(read !== undefined);
        assert.equal(isTombstone(read), false);
        assert.equal(read.value?.length, 0);
      });

      it('keeps binary keys and values byte for byte', async () => {
        const key = Buffer.from([0x00, 0xff, 0x80, 0x00]);
        const value = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);
        await engine.apply([{ key, value, version: { stamp: 5n, nodeId: 'n' }, expiresAtMs: 0 }]);
        assert.deepEqual(engine.get(Buffer.from([0x00, 0xff, 0x80, 0x00]))?.value, value);
        assert.equal(engine.get(Buffer.from([0x00, 0xff, 0x80])), undefined, 'a prefix is another key');
      });

      it('owns its copy: changing the caller buffers after apply changes nothing stored', async () => {
        const key = Buffer.from('owned');
        const value = Buffer.from('original');
        await engine.apply([{ key, value, version: { stamp: 1n, nodeId: 'n' }, expiresAtMs: 0 }]);
        value.write('CHANGED!');
        key.write('xxxxx');
        assert.deepEqual(engine.get(Buffer.from('owned'))?.value, Buffer.from('original'));
      });

      it('preserves TTL expiry and still returns expired records (expiry is the reader’s call)', async () => {
        await engine.apply([record(Buffer.from('ttl'), 'v', 3n, 'n', 1_700_000_000_123)]);
        await engine.apply([record(Buffer.from('gone'), 'v', 3n, 'n', 1)]);
        assert.equal(engine.get(Buffer.from('ttl'))?.expiresAtMs, 1_700_000_000_123);
        assert.equal(engine.get(Buffer.from('gone'))?.expiresAtMs, 1);
      });
    });

    describe('delete', () => {
      it('stores a newer tombstone as a record with a null value', async () => {
        await engine.apply([record(Buffer.from('k'), 'v', 1n)]);
        const result = await engine.apply([record(Buffer.from('k'), null, 2n)]);
        assert.deepEqual(result.applied, [true]);
        const read = engine.get(Buffer.from('k'));
        assert.ok(read !== undefined);
        assert.equal(isTombstone(read), true);
        assert.deepEqual(read.version, { stamp: 2n, nodeId: 'node-a' });
      });

      it('keeps a tombstone against an older put arriving late', async () => {
        await engine.apply([record(Buffer.from('k'), null, 5n)]);
        const result = await engine.apply([record(Buffer.from('k'), 'resurrected', 4n)]);
        assert.deepEqual(result.applied, [false]);
        assert.equal(engine.get(Buffer.from('k'))?.value, null);
      });

      it('stores a tombstone for a key it never held', async () => {
        const result = await engine.apply([record(Buffer.from('never'), null, 1n)]);
        assert.deepEqual(result.applied, [true]);
        assert.equal(engine.get(Buffer.from('never'))?.value, null);
      });
    });

    describe('last-writer-wins versions', () => {
      it('treats an older version as a no-op', async () => {
        await engine.apply([record(Buffer.from('k'), 'new', 20n)]);
        const result = await engine.apply([record(Buffer.from('k'), 'old', 19n)]);
        assert.deepEqual(result.applied, [false]);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('new'));
      });

      it('treats an equal version as a no-op, even with another value', async () => {
        await engine.apply([record(Buffer.from('k'), 'first', 20n, 'node-a')]);
        const result = await engine.apply([record(Buffer.from('k'), 'second', 20n, 'node-a')]);
        assert.deepEqual(result.applied, [false]);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('first'));
      });

      it('breaks equal stamps by node id: the greater id wins', async () => {
        await engine.apply([record(Buffer.from('k'), 'from-b', 20n, 'node-b')]);
        const lower = await engine.apply([record(Buffer.from('k'), 'from-a', 20n, 'node-a')]);
        assert.deepEqual(lower.applied, [false]);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('from-b'));
        const higher = await engine.apply([record(Buffer.from('k'), 'from-c', 20n, 'node-c')]);
        assert.deepEqual(higher.applied, [true]);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('from-c'));
      });

      it('applies the records of one call in order, each against what came before', async () => {
        const result = await engine.apply([
          record(Buffer.from('k'), 'v2', 2n),
          record(Buffer.from('k'), 'v1', 1n),
          record(Buffer.from('k'), 'v3', 3n),
          record(Buffer.from('other'), 'x', 1n),
          record(Buffer.from('k'), 'v3-again', 3n),
        ]);
        assert.deepEqual(result.applied, [true, false, true, true, false]);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('v3'));
      });

      it('compares the full 64-bit stamp', async () => {
        const high = (1n << 63n) + 1n;
        await engine.apply([record(Buffer.from('k'), 'high', high)]);
        const result = await engine.apply([record(Buffer.from('k'), 'low', 1n << 62n)]);
        assert.deepEqual(result.applied, [false]);
        assert.equal(engine.get(Buffer.from('k'))?.version.stamp, high);
      });

      it('matches a last-writer-wins model under random histories', async () => {
        const op = fc.record({
          key: fc.constantFrom('a', 'b', 'c', 'd'),
          value: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
          stamp: fc.bigInt({ min: 1n, max: 12n }),
          nodeId: fc.constantFrom('n1', 'n2', 'n3'),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { maxLength: 12 }), async (calls) => {
            // Every run gets a fresh engine so histories do not mix.
            const fresh = await factory({ tokenOf: contractTokenOf });
            try {
              const model = new Map<string, KvRecord>();
              for (const call of calls) {
                const records = call.map((o) => record(Buffer.from(o.key), o.value, o.stamp, o.nodeId));
                const expected = records.map((r) => {
                  const current = model.get(r.key.toString());
                  if (!supersedes(r.version, current?.version)) return false;
                  model.set(r.key.toString(), r);
                  return true;
                });
                assert.deepEqual((await fresh.engine.apply(records)).applied, expected);
              }
              for (const [key, want] of model) {
                const got = fresh.engine.get(Buffer.from(key));
                assert.ok(got !== undefined);
                assert.equal(compareVersions(got.version, want.version), 0);
                assert.deepEqual(got.value, want.value);
              }
              const scanned = await scanAll(fresh.engine, FULL_RING, 2);
              assert.equal(scanned.records.length, model.size);
            } finally {
              await fresh.cleanup();
            }
          }),
          { numRuns: 40 },
        );
      });
    });

    describe('scan by token range', () => {
      // Tokens spread over the whole ring, including both ends and keys sharing a token.
      const placed = [
        keyAt(0n, 'zero'),
        keyAt(1n, 'one'),
        keyAt(100n, 'a'),
        keyAt(100n, 'b'),
        keyAt(100n, Buffer.from([0xff])),
        keyAt(200n, 'two-hundred'),
        keyAt(1n << 63n, 'middle'),
        keyAt(TOKEN_MAX - 1n, 'almost'),
        keyAt(TOKEN_MAX, 'max'),
      ];
      const all = placed.map((key, i) => record(key, i % 3 === 2 ? null : `v${i}`, BigInt(i + 1)));

      beforeEach(async () => {
        // Applied out of order on purpose: the engine sorts, not the caller.
        await engine.apply([...all].reverse());
      });

      it('returns exactly the records in (start, end], in (token, key) order, tombstones included', async () => {
        const range = { start: 1n, end: 200n };
        const { records } = await scanAll(engine, range, 100);
        assert.deepEqual(records.map((r) => r.key), ringOrder(range, all).map((r) => r.key));
        assert.deepEqual(tokens(records), [100n, 100n, 100n, 200n], 'start excluded, end included');
        assert.ok(records.some((r) => isTombstone(r)), 'tombstones are part of a scan');
      });

      it('orders keys sharing a token by unsigned key bytes', async () => {
        const { records } = await scanAll(engine, { start: 99n, end: 100n }, 100);
        assert.deepEqual(
          records.map((r) => r.key.subarray(8).toString('hex')),
          ['61', '62', 'ff'],
        );
      });

      it('scans a wrapping range in ring order: after start up to the top, then from 0', async () => {
        const range = { start: TOKEN_MAX - 1n, end: 1n };
        const { records } = await scanAll(engine, range, 100);
        assert.deepEqual(tokens(records), [TOKEN_MAX, 0n, 1n]);
      });

      it('scans the whole ring when start equals end', async () => {
        const range = { start: 100n, end: 100n };
        const { records } = await scanAll(engine, range, 100);
        assert.equal(records.length, all.length);
        assert.deepEqual(records.map((r) => r.key), ringOrder(range, all).map((r) => r.key));
        assert.deepEqual(tokens(records).slice(0, 2), [200n, 1n << 63n], 'the ring walk starts after `start`');
      });

      it('scans an empty stretch of the ring as one empty page', () => {
        const page = engine.scan({ start: 300n, end: 400n }, 10);
        assert.deepEqual(page.records, []);
        assert.equal(page.resumeAfter, undefined);
      });

      for (const limit of [1, 2, 3, 4]) {
        it(`pages with limit ${limit} yield every record exactly once, across the wrap point`, async () => {
          for (const range of [FULL_RING, { start: 150n, end: 100n }, { start: 0n, end: 1n << 63n }]) {
            const expected = ringOrder(range, all).map((r) => r.key);
            const { records, pages } = await scanAll(engine, range, limit);
            assert.deepEqual(records.map((r) => r.key), expected);
            assert.ok(pages <= Math.ceil(expected.length / limit) + 1, 'no runaway empty pages');
          }
        });
      }

      it('ends a page at SCAN_PAGE_BYTES_MAX bytes of keys and values before its limit, and still yields every record once', async () => {
        // Eleven records of a quarter of the page budget each, on both sides of the wrap
        // point, among the small ones already placed.
        const large = Array.from({ length: 11 }, (_, i) =>
          record(keyAt(i % 2 === 0 ? 300n + BigInt(i) : TOKEN_MAX - 100n + BigInt(i), 'large'), 'x'.repeat(SCAN_PAGE_BYTES_MAX / 4), 50n),
        );
        for (const one of large) await engine.apply([one]);
        for (const range of [FULL_RING, { start: 250n, end: 250n }]) {
          const expected = ringOrder(range, [...all, ...large]).map((r) => r.key);
          const seen: KvRecord[] = [];
          let pages = 0;
          let page = engine.scan(range, 1000);
          for (;;) {
            pages++;
            const bytes = page.records.reduce((sum, r) => sum + r.key.length + (r.value?.length ?? 0), 0);
            assert.ok(page.records.length === 1 || bytes <= SCAN_PAGE_BYTES_MAX, `page of ${bytes} bytes in ${page.records.length} records`);
            seen.push(...page.records);
            if (page.resumeAfter === undefined) break;
            assert.ok(pages < 100, 'scan must terminate');
            page = engine.scan(range, 1000, page.resumeAfter);
          }
          assert.deepEqual(seen.map((r) => r.key), expected);
          assert.ok(pages >= 3, `11 quarter-budget records need at least 3 pages, took ${pages}`);
        }
        // A single record above the budget still travels, alone.
        await engine.apply([record(keyAt(400n, 'huge'), 'y'.repeat(SCAN_PAGE_BYTES_MAX + 1), 60n)]);
        const { records } = await scanAll(engine, { start: 399n, end: 400n }, 10);
        assert.equal(records.length, 1);
      });

      it('sees a record written between two pages when it lies after the cursor', async () => {
        const first = engine.scan(FULL_RING, 2);
        assert.ok(first.resumeAfter !== undefined);
        await engine.apply([record(keyAt(150n, 'late'), 'v', 99n)]);
        const rest = await (async () => {
          const out: KvRecord[] = [];
          let page = engine.scan(FULL_RING, 100, first.resumeAfter);
          out.push(...page.records);
          while (page.resumeAfter !== undefined) {
            page = engine.scan(FULL_RING, 100, page.resumeAfter);
            out.push(...page.records);
          }
          return out;
        })();
        assert.ok(rest.some((r) => r.key.equals(keyAt(150n, 'late'))));
      });
    });

    describe('discard', () => {
      it('removes a key held at exactly the named version, leaving no tombstone', async () => {
        await engine.apply([record(keyAt(10n, 'gone'), 'v', 5n), record(keyAt(20n, 'kept'), 'v', 5n)]);
        assert.equal(await engine.discard([{ key: keyAt(10n, 'gone'), version: { stamp: 5n, nodeId: 'node-a' } }]), 1);
        assert.equal(engine.get(keyAt(10n, 'gone')), undefined);
        assert.deepEqual((await scanAll(engine, FULL_RING, 10)).records.map((r) => r.key), [keyAt(20n, 'kept')]);
        // No tombstone: any version of the key is taken again, an older one too.
        assert.deepEqual((await engine.apply([record(keyAt(10n, 'gone'), 'older', 1n)])).applied, [true]);
        assert.deepEqual(engine.get(keyAt(10n, 'gone'))?.value, Buffer.from('older'));
      });

      it('leaves a key whose newest version is another one, newer or older', async () => {
        await engine.apply([record(Buffer.from('k'), 'v', 5n, 'node-b')]);
        const named = [
          { key: Buffer.from('k'), version: { stamp: 4n, nodeId: 'node-b' } },
          { key: Buffer.from('k'), version: { stamp: 6n, nodeId: 'node-b' } },
          { key: Buffer.from('k'), version: { stamp: 5n, nodeId: 'node-a' } },
        ];
        assert.equal(await engine.discard(named), 0);
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('v'));
      });

      it('removes tombstones too, and counts only keys it removed', async () => {
        await engine.apply([record(Buffer.from('t'), null, 3n), record(Buffer.from('v'), 'x', 3n)]);
        const removed = await engine.discard([
          { key: Buffer.from('t'), version: { stamp: 3n, nodeId: 'node-a' } },
          { key: Buffer.from('never'), version: { stamp: 3n, nodeId: 'node-a' } },
          { key: Buffer.from('t'), version: { stamp: 3n, nodeId: 'node-a' } },
        ]);
        assert.equal(removed, 1, 'a missing key and a key named twice count once at most');
        assert.equal(engine.get(Buffer.from('t')), undefined);
        assert.deepEqual(engine.get(Buffer.from('v'))?.value, Buffer.from('x'));
      });

      it('keeps scans in order and complete when keys are discarded between pages', async () => {
        const keys = Array.from({ length: 60 }, (_, i) => keyAt(1000n + BigInt(i) * 7n, `k${i}`));
        await engine.apply(keys.map((key) => record(key, 'v', 9n)));
        const first = engine.scan(FULL_RING, 20);
        assert.equal(first.records.length, 20);
        // Discard every third key, some before the cursor and some after.
        const discarded = keys.filter((_, i) => i % 3 === 0);
        assert.equal(await engine.discard(discarded.map((key) => ({ key, version: { stamp: 9n, nodeId: 'node-a' } }))), discarded.length);
        const rest: KvRecord[] = [];
        let page: ScanPage = first;
        while (page.resumeAfter !== undefined) {
          page = engine.scan(FULL_RING, 20, page.resumeAfter);
          rest.push(...page.records);
        }
        const expectedRest = keys.slice(20).filter((_, i) => (i + 20) % 3 !== 0);
        assert.deepEqual(rest.map((r) => r.key), expectedRest);
      });

      it('matches a model under random puts, discards and scans', async () => {
        const op = fc.oneof(
          fc.record({ kind: fc.constant('put' as const), key: fc.nat(7), stamp: fc.bigInt({ min: 1n, max: 20n }), tombstone: fc.boolean() }),
          // Discard the version held (or a missing key), or a version off by one.
          fc.record({ kind: fc.constant('discard' as const), key: fc.nat(7), offset: fc.constantFrom(0n, 0n, 0n, 1n, -1n) }),
          fc.record({ kind: fc.constant('scan' as const), limit: fc.integer({ min: 1, max: 5 }) }),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
            const fresh = await factory({ tokenOf: contractTokenOf });
            try {
              const model = new Map<string, KvRecord>();
              // Keys 0..3 share token 500, the others have tokens of their own.
              const keyOf = (index: number): Buffer => keyAt(index < 4 ? 500n : 500n + BigInt(index), `key-${index}`);
              for (const step of ops) {
                if (step.kind === 'put') {
                  const written = record(keyOf(step.key), step.tombstone ? null : `v${step.stamp}`, step.stamp);
                  const current = model.get(written.key.toString('hex'));
                  const expected = supersedes(written.version, current?.version);
                  if (expected) model.set(written.key.toString('hex'), written);
                  assert.deepEqual((await fresh.engine.apply([written])).applied, [expected]);
                } else if (step.kind === 'discard') {
                  const key = keyOf(step.key);
                  const current = model.get(key.toString('hex'));
                  const stamp = (current?.version.stamp ?? 7n) + step.offset;
                  const hit = current !== undefined && current.version.stamp === stamp;
                  if (hit) model.delete(key.toString('hex'));
                  assert.equal(await fresh.engine.discard([{ key, version: { stamp, nodeId: 'node-a' } }]), hit ? 1 : 0);
                } else {
                  const scanned = await scanAll(fresh.engine, FULL_RING, step.limit);
                  const expected = ringOrder(FULL_RING, [...model.values()]);
                  assert.deepEqual(scanned.records.map((r) => r.key.toString('hex')), expected.map((r) => r.key.toString('hex')));
                }
              }
              for (let index = 0; index < 8; index++) {
                const want = model.get(keyOf(index).toString('hex'));
                const got = fresh.engine.get(keyOf(index));
                assert.equal(got === undefined, want === undefined, `key ${index}`);
                if (got !== undefined && want !== undefined) assert.equal(compareVersions(got.version, want.version), 0);
              }
            } finally {
              await fresh.cleanup();
            }
          }),
          { numRuns: 60 },
        );
      });
    });

    describe('lifecycle', () => {
      it('syncs', async () => {
        await engine.apply([record(Buffer.from('k'), 'v', 1n)]);
        await engine.sync();
        assert.deepEqual(engine.get(Buffer.from('k'))?.value, Buffer.from('v'));
      });

      it('refuses writes after close with STORE_CLOSED', async () => {
        await engine.close();
        await assert.rejects(engine.apply([record(Buffer.from('k'), 'v', 1n)]), (error: unknown) => isQkvError(error) && error.code === 'STORE_CLOSED');
      });
    });
  });
}
