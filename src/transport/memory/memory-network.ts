// An in-process network between the nodes of one test cluster (raft's InmemTransport,
// memberlist's MockNetwork). Each node registers the ReplicaHandler that serves its side
// of the replica port and gets a MemoryTransport bound to its own id, so every message has
// a sender and a receiver and faults can be directional.
//
// Fault model (docs/decisions/0021-memory-network-fault-model.md):
// - partition, disconnect and an unregistered peer REFUSE: the call rejects at once with
//   PeerUnreachableError, like a connection that is refused. The check is made when the
//   message is sent, again when it would be delivered (after any delay) and again when the
//   reply would travel back, so a fault injected mid-flight still takes effect.
// - drop is SILENCE: the message (request or reply) is lost and the call waits for its
//   deadline, like a packet lost on a real network. A lost reply means the replica did
//   the work but the caller never hears of it.
// - delay holds a request back before delivery.
// Every call honours its deadline: at the deadline it rejects with DEADLINE_EXCEEDED, as
// the gRPC transport does (the PeerTransport contract in
// test/transport/peer-transport-contract.ts), and every timer it started is cleared; a
// handler already running finishes (as a real server would) but its answer is discarded.
// Deadlines and delays run on the network's Clock (src/clock), virtual time in tests.
//
// MemoryTransport copies messages in transit, as serialization would, so sender and
// receiver never share buffers. Test knobs are options and methods on the instance, never globals.
import { systemClock, type Clock, type Timer } from '../../clock/clock.js';
import { isQkvError, PeerUnreachableError, QkvError, ShuttingDownError } from '../../errors/errors.js';
import type { ReplicaHandler } from '../../replica/peer-transport.js';
import type { LossReason, Message, MessageCarrier, MessageKind, SentMessage } from './memory-message.js';
import { MemoryTransport } from './memory-transport.js';

/** What happened to a message, for tests that count messages or order events. */
export type NetworkEvent =
  | { readonly type: 'sent'; readonly kind: MessageKind; readonly from: string; readonly to: string; readonly items: number }
  | { readonly type: 'delivered'; readonly kind: MessageKind; readonly from: string; readonly to: string; readonly items: number }
  | { readonly type: 'answered'; readonly kind: MessageKind; readonly from: string; readonly to: string; readonly ok: boolean }
  | { readonly type: 'lost'; readonly kind: MessageKind; readonly from: string; readonly to: string; readonly reason: LossReason };

export interface MemoryNetworkOptions {
  /** Randomness for `drop`; inject a seeded generator to make a test reproducible. */
  readonly random?: () => number;
  /** Sees every message event, in order. */
  readonly observer?: (event: NetworkEvent) => void;
  /** Time for deadlines and delays (src/clock); the machine's clock when absent. */
  readonly clock?: Clock;
}

export interface DelayRule {
  /** Only messages from this node; every sender when absent. */
  readonly from?: string;
  readonly to: string;
  /** Added before delivery; 0 removes the rule. */
  readonly ms: number;
}

export interface DropRule {
  readonly from?: string;
  readonly to: string;
  /** Chance in [0, 1] that a message is lost; 0 removes the rule. */
  readonly probability: number;
  /** Lose the request (never handled) or the reply (handled, never acknowledged). */
  readonly phase?: 'request' | 'reply';
}

const ANY_SENDER = '*';

export class MemoryNetwork implements MessageCarrier {
  private readonly handlers = new Map<string, ReplicaHandler>();
  private readonly partitions: Array<{ a: ReadonlySet<string>; b: ReadonlySet<string> }> = [];
  private readonly disconnected = new Set<string>();
  /** Keyed by `${from}->${to}` with `*` for any sender. */
  private readonly delaysMs = new Map<string, number>();
  private readonly drops = new Map<string, { probability: number; phase: 'request' | 'reply' }>();
  private readonly random: () => number;
  private readonly observer: ((event: NetworkEvent) => void) | undefined;
  readonly clock: Clock;
  /** Calls not yet settled plus handlers still running; `idle()` waits for zero. */
  private busy = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: MemoryNetworkOptions = {}) {
    this.random = options.random ?? Math.random;
    this.observer = options.observer;
    this.clock = options.clock ?? systemClock;
  }

  /** Makes `nodeId` reachable, served by `handler`; replaces an earlier registration. */
  register(nodeId: string, handler: ReplicaHandler): void {
    this.handlers.set(nodeId, handler);
  }

  /** The node vanishes, as if its process died: calls to it are refused. */
  unregister(nodeId: string): void {
    this.handlers.delete(nodeId);
  }

  /** The transport `nodeId` uses to reach its peers. */
  transport(nodeId: string): MemoryTransport {
    return new MemoryTransport(this, nodeId);
  }

  /** No message passes between a node of `groupA` and a node of `groupB`, either way. */
  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.partitions.push({ a: new Set(groupA), b: new Set(groupB) });
  }

  /** The node can neither send nor receive until reconnected. */
  disconnect(nodeId: string): void {
    this.disconnected.add(nodeId);
  }

  reconnect(nodeId: string): void {
    this.disconnected.delete(nodeId);
  }

  delay(rule: DelayRule): void {
    const id = `${rule.from ?? ANY_SENDER}->${rule.to}`;
    if (rule.ms <= 0) this.delaysMs.delete(id);
    else this.delaysMs.set(id, rule.ms);
  }

  drop(rule: DropRule): void {
    const id = `${rule.from ?? ANY_SENDER}->${rule.to}`;
    if (rule.probability <= 0) this.drops.delete(id);
    else this.drops.set(id, { probability: rule.probability, phase: rule.phase ?? 'request' });
  }

  /** Removes every fault: partitions, disconnections, delays and drops. */
  heal(): void {
    this.partitions.length = 0;
    this.disconnected.clear();
    this.delaysMs.clear();
    this.drops.clear();
  }

  /** Resolves once no call is in flight and no handler is running. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Sends one message; used by MemoryTransport, which keeps the handle to cancel it. */
  send<T>(message: Message<T>): SentMessage<T> {
    let settle: ((outcome: { ok: true; value: T } | { ok: false; reason?: LossReason; error: unknown }) => void) | undefined;
    const result = new Promise<T>((resolve, reject) => {
      let settled = false;
      const timers: { deadline?: Timer; delay?: Timer } = {};
      this.enter();
      settle = (outcome) => {
        if (settled) return;
        settled = true;
        timers.deadline?.cancel();
        timers.delay?.cancel();
        if (outcome.ok) {
          resolve(outcome.value);
        } else {
          if (outcome.reason !== undefined) this.emit({ type: 'lost', kind: message.kind, from: message.from, to: message.to, reason: outcome.reason });
          reject(outcome.error);
        }
        this.leave();
      };
      const refuse = (reason: LossReason): void => settle!({ ok: false, reason, error: lossError(message.to, reason) });

      const remainingMs = message.deadlineMs - this.clock.nowMs();
      if (remainingMs <= 0) return refuse('deadline');
      const refusal = this.refusal(message.from, message.to);
      if (refusal !== undefined) return refuse(refusal);
      this.emit({ type: 'sent', kind: message.kind, from: message.from, to: message.to, items: message.items });
      timers.deadline = this.clock.setTimer(remainingMs, () => refuse('deadline'));

      const drop = this.dropRule(message.from, message.to);
      const deliver = (): void => {
        if (settled) return;
        const refusalAtDelivery = this.refusal(message.from, message.to);
        if (refusalAtDelivery !== undefined) return refuse(refusalAtDelivery);
        if (drop?.phase === 'request' && this.random() < drop.probability) {
          // Silence: nobody hears of the message again; the deadline timer settles the call.
          this.emit({ type: 'lost', kind: message.kind, from: message.from, to: message.to, reason: 'dropped' });
          return;
        }
        const handler = this.handlers.get(message.to)!;
        this.emit({ type: 'delivered', kind: message.kind, from: message.from, to: message.to, items: message.items });
        this.enter();
        Promise.resolve()
          .then(() => message.invoke(handler))
          .then(
            (value) => {
              this.emit({ type: 'answered', kind: message.kind, from: message.from, to: message.to, ok: true });
              if (settled) return;
              const refusalOnReply = this.refusal(message.from, message.to);
              if (refusalOnReply !== undefined) return refuse(refusalOnReply);
              if (drop?.phase === 'reply' && this.random() < drop.probability) {
                this.emit({ type: 'lost', kind: message.kind, from: message.from, to: message.to, reason: 'dropped' });
                return;
              }
              settle!({ ok: true, value });
            },
            (error: unknown) => {
              this.emit({ type: 'answered', kind: message.kind, from: message.from, to: message.to, ok: false });
              // The replica's own QkvError travels back unchanged; anything else is a bug in
              // the replica, which reaches the caller as INTERNAL, as over gRPC (ADR 0122).
              const answer = isQkvError(error) ? error : new QkvError('INTERNAL', `peer ${message.to} failed with an internal error`, { cause: error });
              settle!({ ok: false, error: answer });
            },
          )
          .finally(() => this.leave());
      };
      const delayMs = this.delayMs(message.from, message.to);
      if (delayMs > 0) timers.delay = this.clock.setTimer(delayMs, deliver);
      else queueMicrotask(deliver);
    });
    return {
      result,
      cancel: (reason) => settle?.({ ok: false, reason, error: lossError(message.to, reason) }),
    };
  }

  private refusal(from: string, to: string): LossReason | undefined {
    if (this.disconnected.has(from) || this.disconnected.has(to)) return 'disconnected';
    for (const { a, b } of this.partitions) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return 'partitioned';
    }
    if (!this.handlers.has(to)) return 'unregistered';
    return undefined;
  }

  private delayMs(from: string, to: string): number {
    return this.delaysMs.get(`${from}->${to}`) ?? this.delaysMs.get(`${ANY_SENDER}->${to}`) ?? 0;
  }

  private dropRule(from: string, to: string): { probability: number; phase: 'request' | 'reply' } | undefined {
    return this.drops.get(`${from}->${to}`) ?? this.drops.get(`${ANY_SENDER}->${to}`);
  }

  private emit(event: NetworkEvent): void {
    this.observer?.(event);
  }

  private enter(): void {
    this.busy++;
  }

  private leave(): void {
    this.busy--;
    if (this.busy > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The error a lost message rejects with, as the PeerTransport contract has it
 * (test/transport/peer-transport-contract.ts): the deadline is DEADLINE_EXCEEDED, a
 * closed transport SHUTTING_DOWN, any other loss PEER_UNREACHABLE.
 */
function lossError(peer: string, reason: LossReason): QkvError {
  const cause = new Error(`memory network: ${reason}`);
  if (reason === 'deadline') return new QkvError('DEADLINE_EXCEEDED', `peer ${peer} did not answer before the deadline`, { cause });
  if (reason === 'closed') return new ShuttingDownError();
  return new PeerUnreachableError(peer, { cause });
}
