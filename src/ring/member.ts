// A member of the cluster as discovery reports it. The id is the stable name (the
// StatefulSet pod name such as `quorumkv-2`), never an address: addresses change when
// a pod is rescheduled, and the ring is built from ids alone.

export interface Member {
  readonly id: string;
  /** host:port of the member's gRPC endpoint; '' for a retained member with no usable address. */
  readonly address: string;
  /** Failure domain (topology.kubernetes.io/zone) when known. */
  readonly zone?: string;
  readonly ready: boolean;
  /**
   * Discovery no longer reports the member, but it stays in the rings until it announces
   * LEFT (src/membership/retained-members.ts); never set by a discovery adapter.
   */
  readonly retained?: boolean;
}

/** The port every discovery adapter (static, kubernetes) implements. */
export interface Discovery {
  /** Starts watching; `onChange` receives the whole member list after every change. */
  start(onChange: (members: readonly Member[]) => void): Promise<void>;
  stop(): Promise<void>;
}
