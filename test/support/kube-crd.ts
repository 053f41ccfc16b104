// Installs the chart's QuorumKVCluster (and QuorumKVBackup) CRD into a test API server and waits until the
// server serves it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { eventually } from './kube-pods.js';

export const CRD_PATH = fileURLToPath(new URL('../../../helm/quorumkv/crds/quorumkvclusters.quorumkv.io.yaml', import.meta.url));

export function loadCrd(): k8s.V1CustomResourceDefinition {
  return k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(CRD_PATH, 'utf8'));
}

export async function installCrd(kubeConfig: k8s.KubeConfig): Promise<void> {
  await createAndWait(kubeConfig, loadCrd());
}

export const BACKUP_CRD_PATH = fileURLToPath(new URL('../../../helm/quorumkv/crds/quorumkvbackups.quorumkv.io.yaml', import.meta.url));

export const RESTORE_CRD_PATH = fileURLToPath(new URL('../../../helm/quorumkv/crds/quorumkvrestores.quorumkv.io.yaml', import.meta.url));

/** The chart's QuorumKVBackup and QuorumKVRestore CRDs. */
export async function installBackupCrd(kubeConfig: k8s.KubeConfig): Promise<void> {
  await createAndWait(kubeConfig, k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(BACKUP_CRD_PATH, 'utf8')));
  await createAndWait(kubeConfig, k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(RESTORE_CRD_PATH, 'utf8')));
}

/**
 * Installs cert-manager's CRDs from `dir` (scripts/k8s-test-env.sh copies them from its
 * Go module). They are Helm templates of cert-manager's chart only in their labels and
 * annotations, which are dropped here; the schemas are used as they are.
 */
export async function installCertManagerCrds(kubeConfig: k8s.KubeConfig, dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()) {
    const crd = k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(join(dir, file), 'utf8'));
    crd.metadata = { name: crd.metadata!.name! };
    await createAndWait(kubeConfig, crd);
    names.push(crd.metadata.name!);
  }
  return names;
}

async function createAndWait(kubeConfig: k8s.KubeConfig, crd: k8s.V1CustomResourceDefinition): Promise<void> {
  const api = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  await api.createCustomResourceDefinition({ body: crd });
  let last = '';
  await eventually(async () => {
    const current = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
    last = JSON.stringify(current.status?.conditions ?? []);
    return current.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True') ?? false;
  }, () => last);
}
