// A member of the cluster as discovery reports it. The id is the stable name (the
// StatefulSet pod name such as `quorumkv-2`), never an address: addresses change when
// a pod is rescheduled, and the ring is built from ids alone. The type lives in src/ring
// because the ring is the lowest layer built from members (ring-member.ts); membership,
// the transports, discovery and the configuration all read it from here.

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
