// What a join or decommission keeps in the data directory: the ranges already streamed
// (merged token intervals, wrap-around included) and the ring states, both replaced
// atomically and refused with STATE_FILE_CORRUPT when damaged. Real files.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { it } from 'node:test';
import { CompletedRanges } from '../../src/streaming/completed-ranges.js';
import { StreamProgressFile } from '../../src/node/stream-progress-file.js';
import { RingStateFile } from '../../src/node/ring-state-file.js';
import { StateFileCorruptError } from '../../src/errors/errors.js';
import { TOKEN_MAX } from '../../src/ring/token-range.js';
import { tempDir } from '../support/temp-dir.js';

it('completed ranges merge and cover ranges cut differently, across the wrap-around', () => {
  const done = new CompletedRanges();
  done.add({ start: 100n, end: 200n });
  done.add({ start: 200n, end: 300n });
  assert.equal(done.size, 1, 'adjacent ranges merge');
  assert.ok(done.covers({ start: 150n, end: 250n }), 'a range cut from another ring, inside the done ones');
  assert.ok(!done.covers({ start: 50n, end: 150n }));
  assert.ok(!done.covers({ start: 299n, end: 301n }));
  done.add({ start: TOKEN_MAX - 10n, end: 5n });
  assert.ok(done.covers({ start: TOKEN_MAX - 5n, end: 2n }), 'wrapping range');
  assert.ok(!done.covers({ start: TOKEN_MAX - 20n, end: 2n }));
  const whole = new CompletedRanges();
  whole.add({ start: 7n, end: 7n });
  assert.ok(whole.covers({ start: 0n, end: 0n }), 'start == end is the whole ring');
});

it('stream progress survives a restart, belongs to one kind of movement and is removed at the end', async () => {
  const dir = await tempDir(undefined, 'qkv-progress-');
  const file = new StreamProgressFile(dir);
  assert.equal((await file.load('join')).size, 0);
  const done = new CompletedRanges();
  done.add({ start: 10n, end: 20n });
  done.add({ start: TOKEN_MAX - 1n, end: 3n });
  await file.save('join', done);
  const again = await new StreamProgressFile(dir).load('join');
  assert.deepEqual(again.toIntervals(), done.toIntervals());
  assert.equal((await file.load('leave')).size, 0, 'a join\'s progress is no decommission\'s');
  await file.clear();
  assert.equal((await file.load('join')).size, 0);

  await writeFile(file.path, '{"format":1,"movement":"join","done":[["5","x"]]}');
  await assert.rejects(file.load('join'), (error: unknown) => error instanceof StateFileCorruptError && error.code === 'STATE_FILE_CORRUPT' && /done\[0\]/.test(error.message));
});

it('ring states survive a restart; a damaged file stops the start with STATE_FILE_CORRUPT', async () => {
  const dir = await tempDir(undefined, 'qkv-ring-state-');
  const file = new RingStateFile(dir);
  assert.deepEqual(await file.load(), { exists: false, self: undefined, peers: new Map() });
  await file.save({ self: { state: 'LEAVING', version: 42 }, peers: new Map([['b', { state: 'NORMAL', version: 7 }]]) });
  const loaded = await new RingStateFile(dir).load();
  assert.equal(loaded.exists, true);
  assert.deepEqual(loaded.self, { state: 'LEAVING', version: 42 });
  assert.deepEqual([...loaded.peers], [['b', { state: 'NORMAL', version: 7 }]]);
  await writeFile(file.path, '{"format":1,"self":{"state":"GONE","version":1},"peers":{}}');
  await assert.rejects(file.load(), (error: unknown) => error instanceof StateFileCorruptError && /not a ring state/.test(error.message));
  await writeFile(file.path, '{"format":1,"self":null,');
  await assert.rejects(file.load(), StateFileCorruptError);
});

it('ring-state.json keeps forgotten members and the re-replications still owed; a bad mark is refused', async () => {
  const dir = await tempDir(undefined, 'qkv-ring-state-forget-');
  const file = new RingStateFile(dir);
  await file.save({
    self: { state: 'NORMAL', version: 42 },
    peers: new Map([
      ['b', { state: 'NORMAL', version: 7 }],
      ['gone', { state: 'LEFT', version: 50, forgotten: true }],
    ]),
    rereplicate: ['gone'],
  });
  const loaded = await new RingStateFile(dir).load();
  assert.deepEqual(loaded.peers.get('gone'), { state: 'LEFT', version: 50, forgotten: true });
  assert.deepEqual(loaded.peers.get('b'), { state: 'NORMAL', version: 7 });
  assert.deepEqual(loaded.rereplicate, ['gone']);
  await writeFile(file.path, '{"format":1,"self":null,"peers":{"x":{"state":"NORMAL","version":1,"forgotten":true}}}');
  await assert.rejects(file.load(), (error: unknown) => error instanceof StateFileCorruptError && /forgotten/.test(error.message));
  await writeFile(file.path, '{"format":1,"self":null,"peers":{},"rereplicate":"x"}');
  await assert.rejects(file.load(), (error: unknown) => error instanceof StateFileCorruptError && /rereplicate/.test(error.message));
});

it('ring-state.json keeps a forget\'s admin signature byte for byte, so the node passes on a mark peers can check after a restart (ADR 0268)', async () => {
  const dir = await tempDir(undefined, 'qkv-ring-state-signed-');
  const file = new RingStateFile(dir);
  const signed = { certificate: Buffer.from([0x30, 0x82, 0x01, 0xff, 0x00]), signature: Buffer.from([0x30, 0x45, 0x02, 0x20]) };
  await file.save({ self: { state: 'NORMAL', version: 42 }, peers: new Map([['gone', { state: 'LEFT', version: 50, forgotten: true, signed }]]) });
  assert.deepEqual((await new RingStateFile(dir).load()).peers.get('gone'), { state: 'LEFT', version: 50, forgotten: true, signed });
  await writeFile(file.path, '{"format":1,"self":null,"peers":{"x":{"state":"LEFT","version":1,"signed":{"certificate":"AA==","signature":"AA=="}}}}');
  await assert.rejects(file.load(), (error: unknown) => error instanceof StateFileCorruptError && /signed/.test(error.message));
});
