// Picks the node's discovery adapter from its configuration: the fixed --peers list, or
// the pods of the cluster found through the Kubernetes API.
import { ConfigInvalidError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Discovery } from '../discovery/discovery.js';
import type { Member } from '../ring/member.js';
import type { NodeConfig } from '../config/node-config.js';
import { StaticDiscovery } from '../discovery/static/static-discovery.js';
import { KubernetesDiscovery } from '../discovery/kubernetes/kubernetes-discovery.js';
import { statefulSetOfPodName } from '../discovery/kubernetes/pod-member.js';
import { loadKubeConfig, resolveNamespace } from '../kubernetes/kube-config.js';

export function createDiscovery(config: NodeConfig, logger: Logger, self: Member): Discovery {
  if (config.discovery === 'static') return new StaticDiscovery(config.peers.length > 0 ? config.peers : [self]);
  if (config.kubeLabelSelector === '') throw new ConfigInvalidError('--discovery kubernetes needs --kube-label-selector');
  if (config.peers.length > 0) throw new ConfigInvalidError('--peers and --discovery kubernetes exclude each other');
  // Only pods of this cluster's StatefulSet are members; by default the one whose
  // pods are named like this node (`quorumkv-2` -> `quorumkv`).
  const statefulSet = config.kubeStatefulset !== '' ? config.kubeStatefulset : statefulSetOfPodName(config.nodeId);
  if (statefulSet === undefined) {
    throw new ConfigInvalidError(`--discovery kubernetes needs --kube-statefulset: the node id "${config.nodeId}" is not a StatefulSet pod name (<name>-<ordinal>)`);
  }
  const kubeConfig = loadKubeConfig();
  return new KubernetesDiscovery({
    kubeConfig,
    namespace: resolveNamespace(config.kubeNamespace, kubeConfig),
    labelSelector: config.kubeLabelSelector,
    peerPort: config.peerPort,
    statefulSet,
    logger,
  });
}
