// Prometheus metrics of the scale controller, on its own registry (one controller per
// process):
//   qkv_controller_reconciles_total{outcome}        looks at the cluster: ok | error
//   qkv_controller_actions_total{action}            scale_up | scale_down | decommission | cleanup | expand_volume
//   qkv_controller_decommission_failures_total      Decommission calls that failed
//   qkv_controller_replicas{kind}                   desired (spec.replicas) | statefulset
//   qkv_controller_scaling                          1 while the Scaling condition is True
// Every label value is one of the fixed words above: bounded.
import { Counter, Gauge, type Registry } from 'prom-client';

export type ControllerAction = 'scale_up' | 'scale_down' | 'decommission' | 'cleanup' | 'expand_volume';

export interface ControllerMetrics {
  reconciled(outcome: 'ok' | 'error'): void;
  acted(action: ControllerAction): void;
  decommissionFailed(): void;
  replicas(desired: number | undefined, statefulSet: number): void;
  scaling(isScaling: boolean): void;
}

export const NO_CONTROLLER_METRICS: ControllerMetrics = {
  reconciled: () => {},
  acted: () => {},
  decommissionFailed: () => {},
  replicas: () => {},
  scaling: () => {},
};

export class PrometheusControllerMetrics implements ControllerMetrics {
  private readonly reconciles: Counter<'outcome'>;
  private readonly actions: Counter<'action'>;
  private readonly failures: Counter;
  private readonly replicaGauge: Gauge<'kind'>;
  private readonly scalingGauge: Gauge;

  constructor(registry: Registry) {
    this.reconciles = new Counter({ name: 'qkv_controller_reconciles_total', help: 'Looks the scale controller took at the cluster, by outcome.', labelNames: ['outcome'], registers: [registry] });
    this.actions = new Counter({ name: 'qkv_controller_actions_total', help: 'StatefulSet resizes, decommissions, cleanups and volume claim expansions the scale controller started.', labelNames: ['action'], registers: [registry] });
    this.failures = new Counter({ name: 'qkv_controller_decommission_failures_total', help: 'Decommission calls to a member that failed or were refused.', registers: [registry] });
    this.replicaGauge = new Gauge({ name: 'qkv_controller_replicas', help: 'Desired members (spec.replicas) and the StatefulSet replicas.', labelNames: ['kind'], registers: [registry] });
    this.scalingGauge = new Gauge({ name: 'qkv_controller_scaling', help: '1 while the cluster is not yet at spec.replicas (the Scaling condition).', registers: [registry] });
    for (const outcome of ['ok', 'error']) this.reconciles.inc({ outcome }, 0);
    for (const action of ['scale_up', 'scale_down', 'decommission', 'cleanup', 'expand_volume']) this.actions.inc({ action }, 0);
  }

  reconciled(outcome: 'ok' | 'error'): void {
    this.reconciles.inc({ outcome });
  }

  acted(action: ControllerAction): void {
    this.actions.inc({ action });
  }

  decommissionFailed(): void {
    this.failures.inc();
  }

  replicas(desired: number | undefined, statefulSet: number): void {
    if (desired !== undefined) this.replicaGauge.set({ kind: 'desired' }, desired);
    this.replicaGauge.set({ kind: 'statefulset' }, statefulSet);
  }

  scaling(isScaling: boolean): void {
    this.scalingGauge.set(isScaling ? 1 : 0);
  }
}
