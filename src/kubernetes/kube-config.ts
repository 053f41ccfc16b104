// Where a node finds the API server and its namespace. In a pod: the in-cluster
// config (service-account token and CA, KUBERNETES_SERVICE_HOST) and the namespace
// file beside the token. Outside a pod (tests, a developer's machine): KUBECONFIG or
// ~/.kube/config, as kubectl does; client-node's loadFromDefault tries them in order.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { ConfigInvalidError } from '../errors/errors.js';

/** Written into every pod by the kubelet next to the service-account token. */
const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function loadKubeConfig(): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  if (config.getCurrentCluster() === null) {
    throw new ConfigInvalidError('no Kubernetes API server configured: not in a pod, and no KUBECONFIG or ~/.kube/config');
  }
  return config;
}

/** The configured namespace, else the pod's own, else the kubeconfig context's. */
export function resolveNamespace(configured: string, kubeConfig: k8s.KubeConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (configured !== '') return configured;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const fromFile = readFileSync(NAMESPACE_FILE, 'utf8').trim();
    if (fromFile !== '') return fromFile;
  } catch {
    // Not in a pod: fall through to the kubeconfig context.
  }
  const contextName = kubeConfig.getCurrentContext();
  const fromContext = kubeConfig.getContextObject(contextName)?.namespace;
  if (fromContext) return fromContext;
  throw new ConfigInvalidError('no namespace: set --kube-namespace or POD_NAMESPACE');
}
