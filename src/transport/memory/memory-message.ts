// What travels over a MemoryNetwork: a message from one node's MemoryTransport to
// another node's ReplicaHandler, and the handle the sender keeps to abandon it. It has
// its own module so that MemoryTransport depends on the narrow MessageCarrier below
// and not on the network that creates it (no import cycle between the two).
import type { ReplicaHandler } from '../../replica/peer-transport.js';

export type MessageKind = 'apply' | 'read' | 'merkle_tree' | 'scan' | 'probe';

/** Why a message did not get through. */
export type LossReason = 'partitioned' | 'disconnected' | 'unregistered' | 'dropped' | 'deadline' | 'closed';

/** One message in flight, as the network sends it. */
export interface Message<T> {
  readonly kind: MessageKind;
  readonly from: string;
  readonly to: string;
  readonly items: number;
  readonly deadlineMs: number;
  /** Runs the receiver's handler on a copy of the payload and copies the answer back. */
  readonly invoke: (handler: ReplicaHandler) => Promise<T>;
}

/** A sent message: its outcome and a way for the sending transport to abandon it. */
export interface SentMessage<T> {
  readonly result: Promise<T>;
  cancel(reason: LossReason): void;
}

/** The one thing a MemoryTransport asks of its network: carry a message. */
export interface MessageCarrier {
  send<T>(message: Message<T>): SentMessage<T>;
}
