// The list/watch loop's failure handling, driven by a small HTTP server that plays a
// broken API server: a real kube-apiserver cannot be told to go silent, to expire a
// version on cue or to fail a list, so the faults are injected at the HTTP level, as the
// memory network injects partitions. The happy path runs against the real API server
// in kubernetes-discovery.test.ts.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { ListWatch, type KubeObject } from '../../src/kubernetes/list-watch.js';
import { silentLogger } from '../../src/logging/logger.js';
import { eventually } from '../support/kube-pods.js';

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => void;

async function fakeApiServer(handler: Handler): Promise<{ kubeConfig: k8s.KubeConfig; close: () => Promise<void> }> {
  const open = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    open.add(response);
    response.on('close', () => open.delete(response));
    handler(request, response, new URL(request.url ?? '/', 'http://localhost'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'x' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return {
    kubeConfig,
    close: () => new Promise<void>((resolve) => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function podList(names: readonly string[], resourceVersion: string): string {
  return JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion }, items: names.map((name) => ({ metadata: { name, resourceVersion } })) });
}

function loop(kubeConfig: k8s.KubeConfig, seen: Array<string[]>, timing: { watchTimeoutSeconds: number; silenceGraceMs: number }): ListWatch<KubeObject> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return new ListWatch<KubeObject>({
    kubeConfig,
    path: '/api/v1/namespaces/ns/pods',
    list: (query) => core.listNamespacedPod({ namespace: 'ns', ...query }),
    what: 'pods',
    logger: silentLogger,
    onChange: (objects) => seen.push([...objects.keys()].sort()),
    timing: { ...timing, backoffInitialMs: 20, backoffMaxMs: 100 },
  });
}

test('a watch that goes silent is restarted by the watchdog', { timeout: 15_000 }, async () => {
  let watches = 0;
  const fake = await fakeApiServer((_request, response, url) => {
    if (url.searchParams.get('watch') !== 'true') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(podList(['a'], '10'));
      return;
    }
    watches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    // The second watch delivers an event; the first says nothing and never closes,
    // like a connection whose peer vanished without a FIN.
    if (watches >= 2) response.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'b', resourceVersion: '11' } } })}\n`);
  });
  const seen: Array<string[]> = [];
  const watch = loop(fake.kubeConfig, seen, { watchTimeoutSeconds: 0, silenceGraceMs: 300 });
  try {
    await watch.start();
    await eventually(() => JSON.stringify(seen.at(-1)) === '["a","b"]', () => JSON.stringify({ seen, stats: watch.stats }), 5000);
    assert.ok(watch.stats.watchdogAborts >= 1, JSON.stringify(watch.stats));
    assert.equal(watch.stats.lists, 1, 'a silent watch resumes without a relist');
  } finally {
    await watch.stop();
    await fake.close();
  }
});

test('410 Gone in the watch stream makes the loop relist', { timeout: 15_000 }, async () => {
  let lists = 0;
  const fake = await fakeApiServer((_request, response, url) => {
    if (url.searchParams.get('watch') !== 'true') {
      lists += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(podList(lists === 1 ? ['a'] : ['a', 'c'], String(100 + lists)));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('resourceVersion') === '101') {
      response.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`);
    }
  });
  const seen: Array<string[]> = [];
  const watch = loop(fake.kubeConfig, seen, { watchTimeoutSeconds: 60, silenceGraceMs: 1000 });
  try {
    await watch.start();
    await eventually(() => JSON.stringify(seen.at(-1)) === '["a","c"]', () => JSON.stringify({ seen, stats: watch.stats }), 5000);
    assert.equal(watch.stats.gone, 1);
    assert.equal(watch.stats.lists, 2);
  } finally {
    await watch.stop();
    await fake.close();
  }
});

test('a failing list is retried with backoff until it succeeds', { timeout: 15_000 }, async () => {
  let lists = 0;
  const fake = await fakeApiServer((_request, response, url) => {
    if (url.searchParams.get('watch') !== 'true') {
      lists += 1;
      if (lists <= 3) response.writeHead(503, { 'content-type': 'application/json' }).end('{"kind":"Status","code":503}');
      else response.writeHead(200, { 'content-type': 'application/json' }).end(podList(['a'], '5'));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
  });
  const seen: Array<string[]> = [];
  const watch = loop(fake.kubeConfig, seen, { watchTimeoutSeconds: 60, silenceGraceMs: 1000 });
  try {
    await watch.start();
    assert.deepEqual(seen, [['a']]);
    assert.equal(watch.stats.failures, 3);
  } finally {
    await watch.stop();
    await fake.close();
  }
});
