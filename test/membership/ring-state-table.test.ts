// Ring states as a node learns them from probes (src/membership/ring-state-table.ts):
// only a member speaks for itself, a newer version wins and an older one (an answer
// overtaken by a later change) is ignored, acknowledgements say which peers have heard
// this node's current state, and the own state is saved before anyone can hear it.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RingStateTable, type RingStateSnapshot } from '../../src/membership/ring-state-table.js';
import { silentLogger } from '../../src/logging/logger.js';

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
