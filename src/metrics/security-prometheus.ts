// Prometheus side of the call guards (src/security/call-guards.ts) and certificates:
//   qkv_calls_refused_total{port, code}        calls refused before they started:
//                                              UNAUTHENTICATED, PERMISSION_DENIED,
//                                              PEER_IDENTITY_MISMATCH (the call guards);
//                                              OVERLOADED, DEADLINE_EXCEEDED (the receive
//                                              gate: a full queue, a message too slow)
//   qkv_certificate_not_after_seconds          when the node certificate in use expires
//                                              (Unix time), for an expiry alert
//   qkv_certificate_reloads_total{outcome}     changed certificate files taken (rotated)
//                                              or refused (an incomplete set; the old
//                                              one stays in use)
import { Counter, Gauge, type Registry } from 'prom-client';

export class PrometheusSecurityMetrics {
  private readonly refusedTotal: Counter<'port' | 'code'>;
  private readonly reloadsTotal: Counter<'outcome'>;
  private readonly notAfter: Gauge;

  constructor(registry: Registry) {
    this.refusedTotal = new Counter({ name: 'qkv_calls_refused_total', help: 'Calls refused before they started, by port (client, peer) and quorumkv error code.', labelNames: ['port', 'code'], registers: [registry] });
    this.reloadsTotal = new Counter({ name: 'qkv_certificate_reloads_total', help: 'Changed certificate files: rotated (in use) or refused (incomplete; the previous set stays).', labelNames: ['outcome'], registers: [registry] });
    for (const outcome of ['rotated', 'refused']) this.reloadsTotal.inc({ outcome }, 0);
    this.notAfter = new Gauge({ name: 'qkv_certificate_not_after_seconds', help: 'Expiry of the node certificate in use (Unix time in seconds).', registers: [registry] });
  }

  refused(port: 'client' | 'peer', code: string): void {
    this.refusedTotal.inc({ port, code });
  }

  certificateInUse(notAfter: string): void {
    this.notAfter.set(Math.floor(Date.parse(notAfter) / 1000));
  }

  reloaded(outcome: 'rotated' | 'refused'): void {
    this.reloadsTotal.inc({ outcome });
  }
}
