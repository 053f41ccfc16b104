// The discovery port: how a node learns the members of its cluster. The adapters sit
// beside it (static/ from the configuration, kubernetes/ from the StatefulSet's pods);
// the node starts one and hands every member list to membership.
import type { Member } from '../ring/member.js';

/** The port every discovery adapter (static, kubernetes) implements. */
export interface Discovery {
  /** Starts watching; `onChange` receives the whole member list after every change. */
  start(onChange: (members: readonly Member[]) => void): Promise<void>;
  stop(): Promise<void>;
}
