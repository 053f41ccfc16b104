// The node's Prometheus registry: one per node process (tests create one per node so
// in-process nodes never share series), with Node's default process metrics under the
// `qkv_` prefix-free standard names (process_*, nodejs_*) that dashboards expect.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createMetricsRegistry(labels: { nodeId: string }): Registry {
  const registry = new Registry();
  // The node id is a bounded label (one value per process) and lets one Prometheus
  // job tell the members of a cluster apart without relabelling.
  registry.setDefaultLabels({ node: labels.nodeId });
  collectDefaultMetrics({ register: registry });
  return registry;
}
