// Counters and histograms with children resolved once (src/metrics/resolved-children.ts)
// against prom-client's own Counter and Histogram given the same observations: /metrics
// must read the same, in both text formats, and a count must be neither lost nor counted
// twice across scrapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { ResolvedCounter, ResolvedHistogram } from '../../src/metrics/resolved-children.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

type ContentType = typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE;

/** prom-client's types take only Prometheus-format registries in a metric's `registers`. */
function registryOf(contentType: ContentType): Registry {
  const registry = new Registry<ContentType>();
  registry.setContentType(contentType);
  return registry as Registry;
}
/** On a bound, between bounds, below the first, past the last, zero. */
const VALUES = [0.001, 0.005, 0.0001, 7, 0, 0.1, 0.5, 1, 1.0000001];

for (const contentType of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE] as const) {
  test(`a resolved histogram reads like prom-client's Histogram (${contentType.split(';')[0]})`, async () => {
    const theirs = registryOf(contentType);
    const ours = registryOf(contentType);
    const histogram = new Histogram({ name: 'qkv_test_seconds', help: 'A test histogram.', labelNames: ['op', 'quorum'], buckets: BUCKETS, registers: [theirs] });
    const resolved = new ResolvedHistogram({ name: 'qkv_test_seconds', help: 'A test histogram.', labelNames: ['op', 'quorum'], buckets: BUCKETS, registry: ours });
    VALUES.forEach((value, i) => {
      const op = i % 3 === 0 ? 'get' : 'put';
      const quorum = 1 + (i % 2);
      histogram.observe({ op, quorum: String(quorum) }, value);
      resolved.child(op, quorum).observe(value);
    });
    assert.equal(await ours.metrics(), await theirs.metrics());
    // The JSON view holds the same values (prom-client adds an empty exemplar to buckets).
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) =>
      metrics.map((metric) => ({ ...metric, values: metric.values.map(({ labels, value, metricName }: { labels: object; value: number; metricName?: string }) => ({ labels, value, metricName })) }));
    assert.deepEqual(withoutExemplars(await ours.getMetricsAsJSON()), withoutExemplars(await theirs.getMetricsAsJSON()));
    resolved.reset();
    histogram.reset();
    resolved.child('get', 2).observe(0.05);
    histogram.observe({ op: 'get', quorum: '2' }, 0.05);
    // prom-client forgets label sets on reset; ours keeps them at zero: compare the one in use.
    assert.match(await ours.metrics(), /qkv_test_seconds_count\{op="get",quorum="2"\} 1\n/);
    assert.match(await ours.metrics(), /qkv_test_seconds_bucket\{le="0\.1",op="get",quorum="2"\} 1\n/);
    assert.match(await ours.metrics(), /qkv_test_seconds_bucket\{le="0\.01",op="get",quorum="2"\} 0\n/);
  });

  test(`a resolved counter reads like prom-client's Counter across scrapes (${contentType.split(';')[0]})`, async () => {
    const theirs = registryOf(contentType);
    const ours = registryOf(contentType);
    const counter = new Counter({ name: 'qkv_test_total', help: 'A test counter.', labelNames: ['op', 'peer', 'result'], registers: [theirs] });
    const resolved = new ResolvedCounter({ name: 'qkv_test_total', help: 'A test counter.', labelNames: ['op', 'peer', 'result'], registry: ours });
    const kept = resolved.child('read', 'qkv-2', 'ok');
    for (let scrape = 0; scrape < 3; scrape++) {
      for (let i = 0; i < 5 + scrape; i++) {
        counter.inc({ op: 'read', peer: 'qkv-2', result: 'ok' });
        kept.inc();
      }
      counter.inc({ op: 'apply', peer: 'qkv-3', result: 'DEADLINE_EXCEEDED' }, 2);
      resolved.child('apply', 'qkv-3', 'DEADLINE_EXCEEDED').inc(2);
      assert.equal(await ours.metrics(), await theirs.metrics(), `scrape ${scrape}`);
    }
    assert.match(await ours.metrics(), /qkv_test_total\{op="read",peer="qkv-2",result="ok"\} 18\n/);
  });
}

test('a child is found again, not made twice, for the same label values', () => {
  const registry = new Registry();
  const resolved = new ResolvedHistogram({ name: 'qkv_test_seconds', help: 'h', labelNames: ['op', 'quorum'], buckets: BUCKETS, registry });
  assert.equal(resolved.child('get', 2), resolved.child('get', 2));
  assert.notEqual(resolved.child('get', 2), resolved.child('get', 1));
  assert.throws(() => new ResolvedHistogram({ name: 'qkv_bad_seconds', help: 'h', labelNames: ['op'], buckets: [1, 0.5], registry }), /buckets must ascend/);
});

test('a non-finite observation is refused as prom-client refuses it, not counted in the lowest bucket', () => {
  const theirs = new Histogram({ name: 'qkv_test_seconds', help: 'h', labelNames: ['op'], buckets: BUCKETS, registers: [new Registry()] });
  const resolved = new ResolvedHistogram({ name: 'qkv_test_seconds', help: 'h', labelNames: ['op'], buckets: BUCKETS, registry: new Registry() });
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.throws(() => theirs.observe({ op: 'get' }, value), TypeError, `prom-client with ${value}`);
    assert.throws(() => resolved.child('get').observe(value), TypeError, `resolved with ${value}`);
  }
});

test('a number and its string name the same child, so /metrics never holds one series twice', async () => {
  const registry = new Registry();
  const resolved = new ResolvedHistogram({ name: 'qkv_test_seconds', help: 'h', labelNames: ['op', 'quorum'], buckets: BUCKETS, registry });
  const counter = new ResolvedCounter({ name: 'qkv_test_total', help: 'c', labelNames: ['op', 'quorum'], registry });
  assert.equal(resolved.child('get', 2), resolved.child('get', '2'));
  resolved.child('get', 2).observe(0.05);
  resolved.child('get', '2').observe(0.05);
  counter.child('get', 2).inc();
  counter.child('get', '2').inc();
  const text = await registry.metrics();
  assert.deepEqual(text.split('\n').filter((line) => line.startsWith('qkv_test_seconds_count')), ['qkv_test_seconds_count{op="get",quorum="2"} 2']);
  assert.deepEqual(text.split('\n').filter((line) => line.startsWith('qkv_test_total')), ['qkv_test_total{op="get",quorum="2"} 2']);
});

test('a histogram refused for its options is not left registered, so the registry still scrapes', async () => {
  const registry = new Registry();
  assert.throws(() => new ResolvedHistogram({ name: 'qkv_bad_seconds', help: 'h', labelNames: ['op'], buckets: [1, 0.5], registry }), /buckets must ascend/);
  assert.throws(() => new ResolvedHistogram({ name: 'qkv_unlabelled_seconds', help: 'h', labelNames: [], buckets: BUCKETS, registry }), /needs labels/);
  assert.equal(registry.getSingleMetric('qkv_bad_seconds'), undefined);
  assert.equal(await registry.metrics(), '\n');
});

test('a counter child refuses a negative or infinite amount at the call, as prom-client does, and the registry still scrapes', async () => {
  const theirs = new Counter({ name: 'qkv_test_total', help: 'c', labelNames: ['op'], registers: [new Registry()] });
  const registry = new Registry();
  const resolved = new ResolvedCounter({ name: 'qkv_test_total', help: 'c', labelNames: ['op'], registry });
  for (const amount of [-1, Number.POSITIVE_INFINITY]) {
    assert.throws(() => theirs.inc({ op: 'get' }, amount), `prom-client with ${amount}`);
    assert.throws(() => resolved.child('get').inc(amount), `resolved with ${amount}`);
  }
  resolved.child('get').inc();
  assert.match(await registry.metrics(), /qkv_test_total\{op="get"\} 1\n/);
});

test('a resolved histogram refuses prom-client\'s own observe, labels and startTimer instead of losing what they record', async () => {
  const registry = new Registry();
  const histogram = new ResolvedHistogram({ name: 'qkv_test_refused_seconds', help: 'A test histogram.', labelNames: ['op'], buckets: BUCKETS, registry });
  assert.throws(() => histogram.observe({ op: 'get' }, 0.5), /observe through child/);
  assert.throws(() => histogram.labels({ op: 'get' }), /observe through child/);
  assert.throws(() => histogram.startTimer({ op: 'get' }), /observe through child/);
  histogram.child('get').observe(0.5);
  assert.match(await registry.metrics(), /qkv_test_refused_seconds_count\{op="get"\} 1/);
});
