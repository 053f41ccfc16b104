// Metrics are registered on a registry the caller passes. When two components of the
// same kind share one registry (two engines in one test process, say), the second must
// reuse the first's metric: prom-client throws on a duplicate name.
import type { Registry } from 'prom-client';

export function getOrCreateMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
