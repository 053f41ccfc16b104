// Ring states as a node learns them from probes (src/membership/ring-state-table.ts):
// only a member speaks for itself, a newer version wins and an older one (an answer
// overtaken by a later change) is ignored, acknowledgements say which peers have heard
// this node's current state, and the own state is saved before anyone can hear it. A
// version further ahead of the clock than any node's can be (a forged 2^53-1) is refused
// in a probe, ignored in an answer and not trusted when loaded.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RingStateTable, type RingStateSnapshot } from '../../src/membership/ring-state-table.js';
import { silentLogger } from '../../src/logging/logger.js';
import { isQkvError } from '../../src/errors/errors.js';
import { RING_STATE_VERSION_AHEAD_MS_MAX } from '../../src/limits.js';

function table(options: { members?: string[]; saved?: RingStateSnapshot; saves?: RingStateSnapshot[]; slowSave?: Promise<void> } = {}) {
  const members = new Set(options.members ?? ['me', 'p', 'q']);
  const changes: string[] = [];
  let now = 1_000;
  const states = new RingStateTable({
    nodeId: 'me',
    initial: options.saved ?? { self: undefined, peers: new Map() },
    store: {
      save: async (snapshot) => {
        await options.slowSave;
        options.saves?.push(snapshot);
      },
    },
    isMember: (id) => members.has(id),
    onChange: (change) => changes.push(`${change.node}:${change.from ?? '-'}->${change.to}`),
    logger: silentLogger,
    nowMs: () => now++,
  });
  return { states, changes };
}

/**
 * A table at a fixed time that starts from `self` and records the MEMBER_FORGOTTEN stops
 * it reports, for the cases where a node hears that it was forgotten.
 */
function tableThatStops(options: { self: RingStateSnapshot['self']; peers?: RingStateSnapshot['peers']; isMember?: (id: string) => boolean; save?: () => Promise<void> }) {
  const stops: string[] = [];
  const states = new RingStateTable({
    nodeId: 'me',
    initial: { self: options.self, peers: options.peers ?? new Map() },
    store: { save: options.save ?? (async () => {}) },
    isMember: options.isMember ?? (() => true),
    onChange: () => {},
    onForgottenSelf: (error) => stops.push(error.code),
    logger: silentLogger,
    nowMs: () => 1_000,
  });
  return { states, stops };
}

it('learns a peer state from its probe and from a probe answer; a newer version wins, an older one is ignored', () => {
  const { states, changes } = table();
  states.onProbe({ sender: 'p', ringState: { state: 'JOINING', version: 10 }, heardRingState: undefined });
  assert.equal(states.stateOf('p'), 'JOINING');
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 20 } });
  assert.equal(states.stateOf('p'), 'NORMAL');
  // An answer computed before the change, arriving after it: ignored.
  states.onAnswer('p', { ringState: { state: 'JOINING', version: 10 } });
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.deepEqual(changes, ['p:-->JOINING', 'p:JOINING->NORMAL']);
});

it('ignores senders that are not members and anonymous probes, and always answers its own state', async () => {
  const { states } = table();
  await states.setSelf('NORMAL');
  const answer = states.onProbe({ sender: 'stranger', ringState: { state: 'NORMAL', version: 5 }, heardRingState: undefined });
  assert.equal(answer.ringState?.state, 'NORMAL');
  assert.equal(states.stateOf('stranger'), undefined);
  states.onProbe({ sender: '', ringState: { state: 'NORMAL', version: 5 }, heardRingState: undefined });
  assert.deepEqual([...states.peerStates()], []);
});

it('knows which peers have heard its current state', async () => {
  const { states } = table();
  await states.setSelf('NORMAL');
  const normal = states.selfAnnounced!;
  assert.deepEqual(states.notYetHeardBy(['p', 'q']), ['p', 'q']);
  states.onProbe({ sender: 'p', ringState: undefined, heardRingState: normal });
  assert.deepEqual(states.notYetHeardBy(['p', 'q']), ['q']);
  await states.setSelf('LEAVING');
  assert.deepEqual(states.notYetHeardBy(['p', 'q']), ['p', 'q'], 'a new state must be heard again');
  // A stale acknowledgement (of NORMAL) does not count for LEAVING.
  states.onProbe({ sender: 'q', ringState: undefined, heardRingState: normal });
  assert.deepEqual(states.notYetHeardBy(['p', 'q']), ['p', 'q']);
  states.onProbe({ sender: 'q', ringState: undefined, heardRingState: states.selfAnnounced });
  assert.deepEqual(states.notYetHeardBy(['p', 'q']), ['p']);
  assert.ok(states.selfAnnounced!.version > normal.version);
});

it('saves the own state before it is announced, with the peer states heard', async () => {
  const saves: RingStateSnapshot[] = [];
  let release!: () => void;
  const slowSave = new Promise<void>((resolve) => (release = resolve));
  const { states } = table({ saves, slowSave });
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 7 } });
  const setting = states.setSelf('JOINING');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(states.hello('p').ringState, undefined, 'not announced while the save is pending');
  release();
  await setting;
  assert.equal(states.hello('p').ringState?.state, 'JOINING');
  assert.deepEqual(states.hello('p').heardRingState, { state: 'NORMAL', version: 7 });
  await states.flush();
  const last = saves.at(-1)!;
  assert.equal(last.self?.state, 'JOINING');
  assert.deepEqual([...last.peers], [['p', { state: 'NORMAL', version: 7 }]]);
});

it('starts from what was saved', () => {
  const { states } = table({ saved: { self: { state: 'LEAVING', version: 3 }, peers: new Map([['q', { state: 'LEFT', version: 9 }]]) } });
  assert.equal(states.self, 'LEAVING');
  assert.equal(states.stateOf('q'), 'LEFT');
  assert.equal(states.stateOf('p'), undefined);
});

it('a peer that heard a later version of this node than its own (a lost state file, a clock behind) makes it announce above that version', async () => {
  const saves: RingStateSnapshot[] = [];
  const { states } = table({ saves });
  await states.setSelf('JOINING');
  const before = states.selfAnnounced!.version;
  // p still holds what this node announced before it lost its state: LEFT, later by p's record.
  const heard = { state: 'LEFT' as const, version: before + 60_000 };
  states.onProbe({ sender: 'p', ringState: { state: 'NORMAL', version: 5 }, heardRingState: heard });
  await states.flush();
  const after = states.selfAnnounced!;
  assert.equal(after.state, 'JOINING');
  assert.ok(after.version > heard.version, `announced ${after.version}, p heard ${heard.version}`);
  assert.deepEqual(saves.at(-1)!.self, after, 'saved before it is announced');
  // p has not heard the new version yet: the join keeps waiting for it.
  assert.deepEqual(states.notYetHeardBy(['p']), ['p']);
  states.onProbe({ sender: 'p', ringState: { state: 'NORMAL', version: 5 }, heardRingState: after });
  assert.deepEqual(states.notYetHeardBy(['p']), []);
});

/** A version no clock reaches: the forged probe's 2^53-1. */
const FORGED_VERSION = 2 ** 53 - 1;

function refusedAsFromFuture(error: unknown): boolean {
  assert.ok(isQkvError(error), String(error));
  assert.equal(error.code, 'RING_STATE_VERSION_FROM_FUTURE');
  assert.match(error.message, new RegExp(`version ${FORGED_VERSION} `));
  assert.match(error.message, new RegExp(`at most ${RING_STATE_VERSION_AHEAD_MS_MAX} ms ahead`));
  return true;
}

it('a probe announcing its sender LEFT at version 2^53-1 is refused and changes nothing: no state, no change, no save', async () => {
  const saves: RingStateSnapshot[] = [];
  const { states, changes } = table({ saves });
  await states.setSelf('NORMAL');
  states.onProbe({ sender: 'p', ringState: { state: 'NORMAL', version: 10 }, heardRingState: undefined });
  await states.flush();
  const savesBefore = saves.length;
  const changesBefore = [...changes];
  assert.throws(() => states.onProbe({ sender: 'p', ringState: { state: 'LEFT', version: FORGED_VERSION }, heardRingState: undefined }), refusedAsFromFuture);
  await states.flush();
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.deepEqual(changes, changesBefore);
  assert.equal(saves.length, savesBefore, 'nothing saved');
  // The true state of p, announced later at an honest version, is still learned.
  states.onProbe({ sender: 'p', ringState: { state: 'LEAVING', version: 20 }, heardRingState: undefined });
  assert.equal(states.stateOf('p'), 'LEAVING');
});

it('a probe saying it heard this node at version 2^53-1 is refused whole: no outrun, and the rest of the probe is not learned', async () => {
  const saves: RingStateSnapshot[] = [];
  const { states } = table({ saves });
  await states.setSelf('NORMAL');
  const own = states.selfAnnounced!;
  await states.flush();
  const savesBefore = saves.length;
  assert.throws(
    () => states.onProbe({ sender: 'p', ringState: { state: 'JOINING', version: 30 }, heardRingState: { state: 'NORMAL', version: FORGED_VERSION } }),
    refusedAsFromFuture,
  );
  await states.flush();
  assert.deepEqual(states.selfAnnounced, own, 'the own version did not follow the forged one');
  assert.equal(states.stateOf('p'), undefined, 'the sender\'s own state in the refused probe is not learned');
  assert.deepEqual(states.notYetHeardBy(['p']), ['p']);
  assert.equal(saves.length, savesBefore);
});

it('a probe answer with a version from the future is ignored; versions within the bound are learned', () => {
  const { states } = table();
  states.onAnswer('p', { ringState: { state: 'LEFT', version: FORGED_VERSION } });
  assert.equal(states.stateOf('p'), undefined);
  // The table's clock stands near 1 000 ms: 50 s ahead is within the bound, 100 s is not.
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 51_000 } });
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.throws(() => states.onProbe({ sender: 'q', ringState: { state: 'NORMAL', version: 101_000 }, heardRingState: undefined }), (error: unknown) => isQkvError(error) && error.code === 'RING_STATE_VERSION_FROM_FUTURE');
  states.onProbe({ sender: 'q', ringState: { state: 'NORMAL', version: 52_000 }, heardRingState: undefined });
  assert.equal(states.stateOf('q'), 'NORMAL');
});

it('a saved own version beyond the bound (2^53, what the forged probe made a node announce) starts again from the current time; a saved peer version beyond it is forgotten; both saved again', async () => {
  const saves: RingStateSnapshot[] = [];
  const { states } = table({
    saves,
    saved: {
      self: { state: 'NORMAL', version: 2 ** 53 },
      peers: new Map([
        ['p', { state: 'NORMAL', version: 500 }],
        ['q', { state: 'LEFT', version: FORGED_VERSION }],
      ]),
    },
  });
  assert.equal(states.self, 'NORMAL');
  const own = states.selfAnnounced!.version;
  assert.ok(own >= 1_000 && own < 2_000, `started again from the clock (near 1 000 ms), got ${own}`);
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.equal(states.stateOf('q'), undefined, 'q is heard again when it speaks');
  await states.flush();
  assert.deepEqual(saves.at(-1)?.self, { state: 'NORMAL', version: own });
  assert.deepEqual([...saves.at(-1)!.peers], [['p', { state: 'NORMAL', version: 500 }]]);
  // q's true state at an honest version is learned, and the next own change is above the restarted version.
  states.onProbe({ sender: 'q', ringState: { state: 'NORMAL', version: 900 }, heardRingState: { state: 'NORMAL', version: own } });
  assert.equal(states.stateOf('q'), 'NORMAL');
  await states.setSelf('LEAVING');
  assert.ok(states.selfAnnounced!.version > own && states.selfAnnounced!.version < 2_000);
});

// ---- qkv forget (docs/decisions/0180-forget-a-member-gone-for-good.md) ----

it('forget marks a member LEFT above its versions, saves the mark with the re-replication owed, and passes it on in every probe and answer', async () => {
  const saves: RingStateSnapshot[] = [];
  const { states, changes } = table({ saves });
  await states.setSelf('NORMAL');
  states.onProbe({ sender: 'p', ringState: { state: 'NORMAL', version: 50_000 }, heardRingState: undefined });
  await states.forget('p');
  assert.equal(states.stateOf('p'), 'LEFT');
  assert.ok(states.isForgotten('p'));
  const [mark] = states.forgottenMembers();
  assert.equal(mark!.node, 'p');
  assert.ok(mark!.version > 50_000, 'above every version p announced, though the clock is behind it');
  assert.deepEqual(states.rereplicationPending(), ['p']);
  const saved = saves.at(-1)!;
  assert.deepEqual(saved.peers.get('p'), { state: 'LEFT', version: mark!.version, forgotten: true });
  assert.deepEqual(saved.rereplicate, ['p']);
  assert.deepEqual(changes.at(-1), 'p:NORMAL->LEFT');
  assert.deepEqual(states.hello('q').forgotten, [mark]);
  assert.deepEqual(states.onProbe({ sender: 'q', ringState: undefined, heardRingState: undefined }).forgotten, [mark]);
  // p is not told what was heard of it: it would announce its old state above that.
  assert.equal(states.hello('p').heardRingState, undefined);
  await states.rereplicated(['p']);
  assert.deepEqual(states.rereplicationPending(), []);
  assert.deepEqual(saves.at(-1)!.rereplicate, []);
});

it('a forget heard from a peer is taken; the forgotten member announcing anything but a later JOINING is ignored', async () => {
  const { states } = table();
  await states.setSelf('NORMAL');
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 10 } });
  states.onAnswer('q', { ringState: { state: 'NORMAL', version: 11 }, forgotten: [{ node: 'p', version: 100 }] });
  assert.ok(states.isForgotten('p'));
  assert.deepEqual(states.rereplicationPending(), ['p'], 'a NORMAL node owes a re-replication for a member that held data');
  assert.deepEqual(states.notYetHeardForgetBy(['q'], ['p']), [], 'q passed the mark on');
  states.onProbe({ sender: 'p', ringState: { state: 'NORMAL', version: 200 }, heardRingState: undefined });
  assert.equal(states.stateOf('p'), 'LEFT', 'a NORMAL announcement, even a later one, does not bring it back');
  states.onProbe({ sender: 'p', ringState: { state: 'JOINING', version: 50 }, heardRingState: undefined });
  assert.equal(states.stateOf('p'), 'LEFT', 'a JOINING from before the forget neither');
  states.onProbe({ sender: 'p', ringState: { state: 'JOINING', version: 300 }, heardRingState: undefined });
  assert.equal(states.stateOf('p'), 'JOINING', 'a new member under the id joins');
  assert.equal(states.isForgotten('p'), false);
  // An older mark passed on later does not undo the join.
  states.onAnswer('q', { ringState: { state: 'NORMAL', version: 11 }, forgotten: [{ node: 'p', version: 100 }] });
  assert.equal(states.stateOf('p'), 'JOINING');
});

it('a node told it was forgotten after the state it holds stops (NORMAL) or announces above the mark (undecided)', async () => {
  const stale = tableThatStops({ self: { state: 'NORMAL', version: 10 } });
  stale.states.onAnswer('p', { ringState: { state: 'NORMAL', version: 5 }, forgotten: [{ node: 'me', version: 500 }] });
  assert.deepEqual(stale.stops, ['MEMBER_FORGOTTEN']);
  const rejoined = tableThatStops({ self: { state: 'NORMAL', version: 10 } });
  rejoined.states.onAnswer('p', { ringState: { state: 'NORMAL', version: 5 }, forgotten: [{ node: 'me', version: 5 }] });
  assert.deepEqual(rejoined.stops, [], 'a mark older than the own state (it joined again since) is stale');
  const { states: fresh, stops: freshStops } = tableThatStops({ self: undefined });
  fresh.onAnswer('p', { ringState: { state: 'NORMAL', version: 5 }, forgotten: [{ node: 'me', version: 5_000 }] });
  await fresh.setSelf('JOINING');
  assert.ok(fresh.selfAnnounced!.version > 5_000, 'an empty node under the id joins above the mark');
  assert.deepEqual(freshStops, []);
});

it('a probe passing on a forget at a version from the future is refused whole; an answer with one is ignored', async () => {
  const { states } = table();
  await states.setSelf('NORMAL');
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 10 } });
  const forged = [{ node: 'p', version: Number.MAX_SAFE_INTEGER }];
  assert.throws(() => states.onProbe({ sender: 'q', ringState: undefined, heardRingState: undefined, forgotten: forged }), (error: unknown) => isQkvError(error) && error.code === 'RING_STATE_VERSION_FROM_FUTURE');
  states.onAnswer('q', { ringState: undefined, forgotten: forged });
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.equal(states.isForgotten('p'), false);
});

it('a forgotten list from a caller that is not a member is ignored, in a probe and in an answer: no mark, no stop', async () => {
  // Any holder of a node certificate can probe; only members may pass a forget on.
  const { states, stops } = tableThatStops({ self: { state: 'NORMAL', version: 10 }, isMember: (id) => id === 'me' || id === 'p' });
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 5 } });
  const list = [{ node: 'p', version: 900 }, { node: 'me', version: 900 }];
  states.onProbe({ sender: 'mallory', ringState: undefined, heardRingState: undefined, forgotten: list });
  states.onAnswer('mallory', { ringState: undefined, forgotten: list });
  assert.equal(states.stateOf('p'), 'NORMAL');
  assert.equal(states.isForgotten('p'), false);
  assert.deepEqual(stops, []);
  assert.deepEqual(states.forgottenMembers(), []);
  // The same list from a member is taken.
  states.onProbe({ sender: 'p', ringState: undefined, heardRingState: undefined, forgotten: [{ node: 'q', version: 900 }] });
  assert.ok(states.isForgotten('q'));
});

it('a member forgotten while JOINING that comes back with that state stops, since its saved join progress missed the writes made meanwhile', () => {
  const { states, stops } = tableThatStops({ self: { state: 'JOINING', version: 10 } });
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 5 }, forgotten: [{ node: 'me', version: 500 }] });
  assert.deepEqual(stops, ['MEMBER_FORGOTTEN']);
});

it('a forget is passed on only once it is saved, and never when the save fails', async () => {
  let release!: () => void;
  const slowSave = new Promise<void>((resolve) => (release = resolve));
  const { states } = table({ slowSave });
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 10 } });
  const forgetting = states.forget('p');
  assert.deepEqual(states.hello('q').forgotten, [], 'not in a probe while the save runs');
  assert.deepEqual(states.onProbe({ sender: 'q', ringState: undefined, heardRingState: undefined }).forgotten, [], 'nor in an answer');
  release();
  await forgetting;
  assert.deepEqual(states.hello('q').forgotten?.map((entry) => entry.node), ['p']);

  const { states: failing } = tableThatStops({
    self: undefined,
    peers: new Map([['p', { state: 'NORMAL', version: 10 }]]),
    save: async () => {
      throw new Error('disk full');
    },
  });
  const probesDuring: unknown[] = [];
  const attempt = failing.forget('p');
  probesDuring.push(failing.hello('q').forgotten);
  await assert.rejects(attempt, /disk full/);
  assert.deepEqual(probesDuring, [[]]);
  assert.deepEqual(failing.hello('q').forgotten, []);
  assert.equal(failing.stateOf('p'), 'NORMAL');
});

it('a re-replication waits for no peer once the forgotten id joined again, and never for the forgotten member itself', async () => {
  const { states } = table();
  await states.setSelf('NORMAL');
  states.onAnswer('p', { ringState: { state: 'NORMAL', version: 10 } });
  states.onAnswer('q', { ringState: { state: 'NORMAL', version: 11 }, forgotten: [{ node: 'p', version: 100 }] });
  assert.deepEqual(states.notYetHeardForgetBy(['p', 'q'], ['p']), [], 'p never lists itself; q did');
  // p comes back empty and joins above the mark: nobody passes the mark on any more.
  states.onProbe({ sender: 'p', ringState: { state: 'JOINING', version: 300 }, heardRingState: undefined });
  states.onAnswer('q', { ringState: { state: 'NORMAL', version: 12 }, forgotten: [] });
  assert.deepEqual(states.notYetHeardForgetBy(['p', 'q'], ['p']), []);
});
