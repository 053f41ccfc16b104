// The replica call metrics (src/metrics/replica-call-prometheus.ts) keep their children
// resolved instead of going through prom-client's labels on every call
// (docs/decisions/0265-replica-call-metrics-resolved-once.md): /metrics must read exactly
// as it did when the same calls went through prom-client's own Histogram and Counter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { PrometheusReplicaCallMetrics } from '../../src/metrics/replica-call-prometheus.js';

/** The metrics as they were written with prom-client's own classes, as the reference. */
function referenceMetrics(registry: Registry): PrometheusReplicaCallMetrics {
  const duration = new Histogram({
    name: 'qkv_replica_call_duration_seconds',
    help: 'Duration of one coalesced Replica gRPC call to a peer.',
    labelNames: ['op'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const messages = new Histogram({
    name: 'qkv_replica_call_messages',
    help: 'Coordinator messages carried by one coalesced Replica gRPC call.',
    labelNames: ['op'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
    registers: [registry],
  });
  const calls = new Counter({ name: 'qkv_replica_calls_total', help: 'Coalesced Replica gRPC calls by peer and result.', labelNames: ['op', 'peer', 'result'], registers: [registry] });
  return {
    observeCall(op, peer, result, seconds, count) {
      duration.observe({ op }, seconds);
      messages.observe({ op }, count);
      calls.inc({ op, peer, result });
    },
  } as PrometheusReplicaCallMetrics;
}

test('the replica call metrics read as prom-client wrote them, across scrapes', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const metrics = new PrometheusReplicaCallMetrics(ours);
  const reference = referenceMetrics(theirs);
  // No call yet: no series, as prom-client has none before the first observation.
  assert.equal(await ours.metrics(), await theirs.metrics());
  const calls: Array<Parameters<PrometheusReplicaCallMetrics['observeCall']>> = [
    ['apply', 'qkv-1', 'ok', 0.0004, 1],
    ['apply', 'qkv-2', 'ok', 0.0031, 3],
    ['apply', 'qkv-1', 'error', 5.5, 4096],
    ['apply', 'qkv-2', 'ok', 0.001, 2],
  ];
  for (const call of calls) {
    metrics.observeCall(...call);
    reference.observeCall(...call);
  }
  // Only applies so far: no read series on either side.
  assert.equal(await ours.metrics(), await theirs.metrics());
  for (const call of [...calls.map((call) => ['read', ...call.slice(1)] as typeof call), ['read', 'qkv-3', 'error', 0.2, 7] as typeof calls[number]]) {
    metrics.observeCall(...call);
    reference.observeCall(...call);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /qkv_replica_calls_total\{op="apply",peer="qkv-2",result="ok"\} 2\n/);
  assert.match(text, /qkv_replica_call_messages_bucket\{le="4",op="read"\} 3\n/);
  // A second scrape counts nothing twice.
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('label values that need escaping read as prom-client writes them, in the text and in JSON', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const metrics = new PrometheusReplicaCallMetrics(ours);
  const reference = referenceMetrics(theirs);
  // Peer ids are node ids, but /metrics must stay parseable whatever one holds.
  for (const peer of ['qkv-0', 'a"quoted"peer', 'back\\slash', 'new\nline', '']) {
    for (const op of ['apply', 'read'] as const) {
      metrics.observeCall(op, peer, 'ok', 0.003, 2);
      reference.observeCall(op, peer, 'ok', 0.003, 2);
    }
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // The JSON view holds the same values (prom-client adds an empty exemplar to buckets).
  const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
    metrics.map((metric) => ({ ...metric, values: metric.values.map(({ labels, value, metricName }: { labels: object; value: number; metricName?: string }) => ({ labels, value, metricName })) }));
  assert.deepEqual(withoutExemplars(await ours.getMetricsAsJSON()), withoutExemplars(await theirs.getMetricsAsJSON()));
  assert.match(await ours.metrics(), /peer="a\\"quoted\\"peer"/);
});

test('a registry reset forgets the calls counted before it, as prom-client does', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const metrics = new PrometheusReplicaCallMetrics(ours);
  const reference = referenceMetrics(theirs);
  const counted = (text: string): string[] => text.split('\n').filter((line) => line.startsWith('qkv_replica_calls_total{'));
  for (const target of [metrics, reference]) {
    target.observeCall('apply', 'qkv-1', 'ok', 0.002, 1);
    target.observeCall('read', 'qkv-2', 'error', 0.002, 1);
  }
  // Not scraped before the reset: what the children counted must not survive it.
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.deepEqual(counted(await ours.metrics()), counted(await theirs.metrics()));
  assert.deepEqual(counted(await ours.metrics()), []);
  for (const target of [metrics, reference]) target.observeCall('apply', 'qkv-1', 'ok', 0.002, 1);
  assert.deepEqual(counted(await ours.metrics()), ['qkv_replica_calls_total{op="apply",peer="qkv-1",result="ok"} 1']);
  assert.deepEqual(counted(await ours.metrics()), counted(await theirs.metrics()));
});
