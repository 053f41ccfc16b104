// Status conditions as the Kubernetes API conventions describe them, shared by the two
// writers of a QuorumKVCluster's status: the nodes (Ready, Degraded, RestartRequired,
// SpecInvalid; ./cluster-resource-sync.ts) and the scale controller (Scaling;
// src/controller). A JSON merge patch replaces a list whole, so each writer sends the
// conditions it owns together with the others' as it last saw them (`mergeConditions`).

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

/**
 * The condition `type` with its new state. The transition time moves only when the
 * status flips, as the conventions ask.
 */
export function condition(previous: readonly Condition[], type: string, isTrue: boolean, reason: string, message: string, observedGeneration: number | undefined): Condition {
  const status = isTrue ? 'True' : 'False';
  const before = previous.find((item) => item.type === type);
  const lastTransitionTime = before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, message, observedGeneration, lastTransitionTime };
}

/** `owned` followed by every condition of `previous` whose type is not among them. */
export function mergeConditions(previous: readonly Condition[], owned: readonly Condition[]): Condition[] {
  const types = new Set(owned.map((item) => item.type));
  return [...owned, ...previous.filter((item) => !types.has(item.type))];
}
