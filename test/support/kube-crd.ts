// Installs the chart's QuorumKVCluster CRD into a test API server and waits until the
// server serves it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { eventually } from './kube-pods.js';

export const CRD_PATH = fileURLToPath(new URL('../../../helm/quorumkv/crds/quorumkvclusters.quorumkv.io.yaml', import.meta.url));

export function loadCrd(): k8s.V1CustomResourceDefinition {
  return k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(CRD_PATH, 'utf8'));
}

export async function installCrd(kubeConfig: k8s.KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  const crd = loadCrd();
  await api.createCustomResourceDefinition({ body: crd });
  let last = '';
  await eventually(async () => {
    const current = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
    last = JSON.stringify(current.status?.conditions ?? []);
    return current.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True') ?? false;
  }, () => last);
}
