// The in-process network's fault hooks, checked through MemoryTransport: partitions cut
// both ways and only between the named groups, disconnect isolates one node, delay holds
// messages back, drop is silence until the deadline (on virtual time), deadlines and
// close() clear their timers, and payloads are copied in transit.
import assert from 'node:assert/strict';
import { describe, it, afterEach } from 'node:test';
import { ManualClock } from '../../src/clock/manual-clock.js';
import { isQkvError, QkvError } from '../../src/errors/errors.js';
import type { KvRecord } from '../../src/storage/record.js';
import { MemoryNetwork, type NetworkEvent } from '../../src/transport/memory/memory-network.js';
import type { ReplicaHandler } from '../../src/replica/peer-transport.js';
import { activeTimerCount } from '../support/active-timers.js';

class RecordingReplica implements ReplicaHandler {
  readonly applied: KvRecord[] = [];
  async apply(records: readonly KvRecord[]): Promise<void> {
    this.applied.push(...records);
  }
  async read(keys: readonly Buffer[]): Promise<Array<KvRecord | undefined>> {
    return keys.map((key) => this.applied.find((record) => record.key.equals(key)));
  }
}

function record(key: string, value = 'v'): KvRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), version: { stamp: 1n, nodeId: 'a' }, expiresAtMs: 0 };
}

const unreachable = (error: unknown): boolean => isQkvError(error) && error.code === 'PEER_UNREACHABLE';
// A call lost to silence ends at its deadline as DEADLINE_EXCEEDED, and a closed transport
// refuses with SHUTTING_DOWN, as every PeerTransport does (peer-transport-contract.ts).
const deadlineExceeded = (error: unknown): boolean => isQkvError(error) && error.code === 'DEADLINE_EXCEEDED';
const shuttingDown = (error: unknown): boolean => isQkvError(error) && error.code === 'SHUTTING_DOWN';
const soon = (ms = 1_000): { deadlineMs: number } => ({ deadlineMs: Date.now() + ms });

function threeNodes(options: ConstructorParameters<typeof MemoryNetwork>[0] = {}) {
  const network = new MemoryNetwork(options);
  const replicas = { a: new RecordingReplica(), b: new RecordingReplica(), c: new RecordingReplica() };
  for (const [id, replica] of Object.entries(replicas)) network.register(id, replica);
  return { network, replicas, a: network.transport('a'), b: network.transport('b'), c: network.transport('c') };
}

describe('MemoryNetwork', () => {
  const timersBefore = activeTimerCount();
  afterEach(() => {
    assert.equal(activeTimerCount(), timersBefore, 'every timer a call started is cleared');
  });

  it('delivers apply and read between registered nodes', async () => {
    const { replicas, a } = threeNodes();
    await a.apply('b', [record('k')], soon());
    assert.equal(replicas.b.applied.length, 1);
    const [read] = await a.read('b', [Buffer.from('k')], soon());
    assert.deepEqual(read?.value, Buffer.from('v'));
  });

  it('copies payloads in transit, both ways', async () => {
    const { replicas, a } = threeNodes();
    const sent = record('k', 'original');
    await a.apply('b', [sent], soon());
    sent.value!.write('CHANGED!');
    assert.deepEqual(replicas.b.applied[0]?.value, Buffer.from('original'));
    const [read] = await a.read('b', [Buffer.from('k')], soon());
    read!.value!.write('mutated!');
    assert.deepEqual(replicas.b.applied[0]?.value, Buffer.from('original'));
  });

  it('refuses calls across a partition in both directions, and only across it', async () => {
    const { network, a, b, c } = threeNodes();
    network.partition(['a'], ['b']);
    await assert.rejects(a.apply('b', [record('k')], soon()), unreachable);
    await assert.rejects(b.apply('a', [record('k')], soon()), unreachable);
    await a.apply('c', [record('k')], soon());
    await c.apply('b', [record('k')], soon());
    network.heal();
    await a.apply('b', [record('k')], soon());
  });

  it('disconnect stops a node sending and receiving until reconnected', async () => {
    const { network, a, b, c } = threeNodes();
    network.disconnect('b');
    await assert.rejects(a.read('b', [Buffer.from('k')], soon()), unreachable);
    await assert.rejects(b.read('c', [Buffer.from('k')], soon()), unreachable);
    await a.read('c', [Buffer.from('k')], soon());
    network.reconnect('b');
    await c.read('b', [Buffer.from('k')], soon());
  });

  it('refuses calls to a node that is not registered', async () => {
    const { network, a } = threeNodes();
    network.unregister('c');
    await assert.rejects(a.apply('c', [record('k')], soon()), unreachable);
    await assert.rejects(a.apply('nobody', [record('k')], soon()), unreachable);
  });

  it('delays messages to one node, optionally only from one sender', async () => {
    const events: string[] = [];
    const { network, a, b } = threeNodes({ observer: (event) => event.type === 'delivered' && events.push(`${event.from}->${event.to}`) });
    network.delay({ from: 'a', to: 'c', ms: 20 });
    const slow = a.apply('c', [record('k')], soon()).then(() => events.push('a->c answered'));
    await b.apply('c', [record('k')], soon());
    await a.apply('b', [record('k')], soon());
    assert.deepEqual(events, ['b->c', 'a->b'], 'the undelayed messages overtake the delayed one');
    await slow;
    assert.deepEqual(events, ['b->c', 'a->b', 'a->c', 'a->c answered']);
  });

  it('a partition made while a delayed message is in flight still cuts it', async () => {
    const { network, replicas, a } = threeNodes();
    network.delay({ to: 'b', ms: 20 });
    const call = a.apply('b', [record('k')], soon());
    network.partition(['a'], ['b']);
    await assert.rejects(call, unreachable);
    assert.equal(replicas.b.applied.length, 0);
  });

  it('rejects at the deadline and clears the delay timer', async () => {
    const events: NetworkEvent[] = [];
    const { network, replicas, a } = threeNodes({ observer: (event) => events.push(event) });
    network.delay({ to: 'b', ms: 10_000 });
    await assert.rejects(a.apply('b', [record('k')], soon(15)), deadlineExceeded);
    assert.equal(replicas.b.applied.length, 0, 'the message was never delivered');
    assert.ok(events.some((event) => event.type === 'lost' && event.reason === 'deadline'));
  });

  it('rejects at once when the deadline has already passed', async () => {
    const { replicas, a } = threeNodes();
    await assert.rejects(a.apply('b', [record('k')], { deadlineMs: Date.now() - 1 }), deadlineExceeded);
    assert.equal(replicas.b.applied.length, 0);
  });

  it('drops requests silently: the call waits for its deadline and the replica never sees it', async () => {
    const draws: number[] = [];
    const random = (): number => {
      draws.push(0);
      return 0.25; // below the drop probability below
    };
    const clock = new ManualClock();
    const { network, replicas, a } = threeNodes({ random, clock });
    network.drop({ to: 'b', probability: 0.5 });
    let outcome: unknown;
    a.apply('b', [record('k')], { deadlineMs: clock.nowMs() + 20 }).then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error),
    );
    await clock.advance(19);
    assert.equal(outcome, undefined, 'a drop is silence, not a refusal: nothing before the deadline');
    await clock.advance(1);
    assert.ok(deadlineExceeded(outcome), 'the call ends at its deadline');
    assert.equal(clock.pendingTimers, 0);
    assert.equal(replicas.b.applied.length, 0);
    assert.equal(draws.length, 1, 'the injected random decides');
  });

  it('lets a message through when the injected random is above the drop probability', async () => {
    const { network, replicas, a } = threeNodes({ random: () => 0.75 });
    network.drop({ to: 'b', probability: 0.5 });
    await a.apply('b', [record('k')], soon());
    assert.equal(replicas.b.applied.length, 1);
  });

  it('drops replies: the replica applied the write but the caller never hears', async () => {
    const { network, replicas, a } = threeNodes({ random: () => 0 });
    network.drop({ to: 'b', probability: 1, phase: 'reply' });
    await assert.rejects(a.apply('b', [record('k')], soon(20)), deadlineExceeded);
    assert.equal(replicas.b.applied.length, 1);
  });

  it("passes a replica's QkvError back to the caller unchanged, and any other failure as INTERNAL", async () => {
    const network = new MemoryNetwork();
    const refusal = new QkvError('OVERLOADED', 'too busy');
    const bug = new Error('disk on fire');
    network.register('b', { apply: async () => Promise.reject(refusal), read: async () => Promise.reject(bug) });
    await assert.rejects(network.transport('a').apply('b', [record('k')], soon()), (error) => error === refusal);
    await assert.rejects(network.transport('a').read('b', [Buffer.from('k')], soon()), (error) => error instanceof QkvError && error.code === 'INTERNAL' && error.cause === bug);
  });

  it('close() rejects the calls in flight, clears their timers and refuses later calls', async () => {
    const { network, a } = threeNodes();
    network.delay({ to: 'b', ms: 10_000 });
    const call = a.apply('b', [record('k')], soon(10_000));
    await a.close();
    await assert.rejects(call, shuttingDown);
    await assert.rejects(a.apply('c', [record('k')], soon()), shuttingDown);
  });

  it('idle() waits for handlers that outlive their caller’s deadline', async () => {
    const network = new MemoryNetwork();
    let finished = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    network.register('b', {
      apply: async () => {
        await gate;
        finished = true;
      },
      read: async () => [],
    });
    await assert.rejects(network.transport('a').apply('b', [record('k')], soon(10)), deadlineExceeded);
    const idle = network.idle().then(() => finished);
    release();
    assert.equal(await idle, true);
  });
});
