// Larger volumes for a running cluster (docs/decisions/0162). A StatefulSet's
// volumeClaimTemplates cannot change after it is created, so raising the chart's
// `persistence.size` cannot reach the existing PersistentVolumeClaims through the
// StatefulSet: the chart writes the size into the QuorumKVCluster's
// spec.persistence.size, keeps the StatefulSet's template as it was created, and the
// scale controller raises each member's claim to that size, which Kubernetes then
// expands when the claim's StorageClass allows it (allowVolumeExpansion).
//
// What it decides, claim by claim, from one look: a claim asking for less than the
// spec gets a patch of spec.resources.requests.storage; one asking for more is left
// alone and reported (Kubernetes never shrinks a volume); a claim the API refuses to
// expand (no StorageClass, or one that does not allow expansion, or not bound yet) is
// reported with the API server's own reason and retried on the next look. Claims of
// removed members, which are kept, are expanded too, so that a member added back gets
// the size asked for.
import * as k8s from '@kubernetes/client-node';
import { storageBytesOf } from '../kubernetes/storage-quantity.js';
import { KUBE_WATCH_OBJECTS_MAX } from '../limits.js';

/** The volumeClaimTemplate's name in the chart's StatefulSet: claims are `data-<pod>`. */
export const DATA_CLAIM_TEMPLATE = 'data';

export interface ClaimView {
  readonly name: string;
  /** spec.resources.requests.storage as written. */
  readonly requested: string;
  /** status.capacity.storage; absent until the claim is bound. */
  readonly capacity: string | undefined;
}

export type ClaimStep =
  | { readonly kind: 'expand'; readonly claim: string; readonly from: string; readonly to: string }
  | { readonly kind: 'larger'; readonly claim: string; readonly requested: string; readonly desired: string };

/** What to do with each claim of the StatefulSet for a desired size; nothing when all fit. */
export function planVolumeExpansion(desired: string, claims: readonly ClaimView[]): ClaimStep[] {
  const desiredBytes = storageBytesOf(desired, 'spec.persistence.size');
  const steps: ClaimStep[] = [];
  for (const claim of [...claims].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const requestedBytes = storageBytesOf(claim.requested, `claim ${claim.name}'s storage request`);
    if (requestedBytes < desiredBytes) steps.push({ kind: 'expand', claim: claim.name, from: claim.requested, to: desired });
    else if (requestedBytes > desiredBytes) steps.push({ kind: 'larger', claim: claim.name, requested: claim.requested, desired });
  }
  return steps;
}

/** The claims of the StatefulSet's members: `data-<statefulSet>-<ordinal>`, any ordinal. */
export async function listDataClaims(core: k8s.CoreV1Api, namespace: string, statefulSet: string, labelSelector: string): Promise<ClaimView[]> {
  const list = await core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector, limit: KUBE_WATCH_OBJECTS_MAX });
  const pattern = new RegExp(`^${DATA_CLAIM_TEMPLATE}-${statefulSet.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(0|[1-9][0-9]*)$`);
  return list.items
    .filter((claim) => pattern.test(claim.metadata?.name ?? ''))
    .map((claim) => ({
      name: claim.metadata!.name!,
      requested: String(claim.spec?.resources?.requests?.storage ?? '0'),
      capacity: claim.status?.capacity?.storage === undefined ? undefined : String(claim.status.capacity.storage),
    }));
}

/** Raises one claim's storage request; the API server refuses what it cannot expand. */
export async function expandClaim(core: k8s.CoreV1Api, namespace: string, claim: string, to: string): Promise<void> {
  await core.patchNamespacedPersistentVolumeClaim(
    { name: claim, namespace, body: { spec: { resources: { requests: { storage: to } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}
