// The order in which every storage engine scans: by token, then by key bytes. It is part
// of the StorageEngine contract (storage-engine.ts: a scan page comes in this order), so
// callers that merge two scans, as range sync merges a local and a remote page, use it
// from here rather than from an engine's internals.

/** (token, key bytes) order, the order of the ordered store's keys. */
export function compareTokenKey(aToken: bigint, aKey: Buffer, bToken: bigint, bKey: Buffer): number {
  if (aToken !== bToken) return aToken < bToken ? -1 : 1;
  return Buffer.compare(aKey, bKey);
}
