// bench:ghz-floor's split of a V8 CPU profile by layer (bench/compare/cpu-profile-layers.ts):
// each sample's time goes to the layer of its function's script, idle time to none, and
// a file that is not a profile is refused rather than read as zeros.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerSplit, layerTable } from '../../bench/compare/cpu-profile-layers.js';

const frame = (functionName: string, url: string): { functionName: string; url: string } => ({ functionName, url });

test('samples are split by the layer of their script; idle time is left out', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '') },
      { id: 2, callFrame: frame('(idle)', '') },
      { id: 3, callFrame: frame('sendStatus', 'file:///x/node_modules/@grpc/grpc-js/build/src/server-interceptors.js') },
      { id: 4, callFrame: frame('respond', 'node:internal/http2/core') },
      { id: 5, callFrame: frame('(garbage collector)', '') },
      { id: 6, callFrame: frame('decodePutRequest', 'file:///x/dist/src/protocol/message-codecs.js') },
      { id: 7, callFrame: frame('onwrite', 'node:internal/streams/writable') },
    ],
    // Each sample's time is the next delta (µs): 3 gets 1000, 2 (idle) 5000, 4 2000, 5 500, 6 250, 7 250.
    samples: [3, 2, 4, 5, 6, 7],
    timeDeltas: [0, 1000, 5000, 2000, 500, 250, 250],
  };
  const split = layerSplit(JSON.stringify(profile));
  assert.equal(split.busyMs, 4);
  assert.equal(split.ms.get('grpc-js'), 1);
  assert.equal(split.ms.get('Node HTTP/2 (JS, and native calls from it)'), 2);
  assert.equal(split.ms.get('(garbage collector)'), 0.5);
  assert.equal(split.ms.get('quorumkv code (src/, bench/)'), 0.25);
  assert.equal(split.ms.get('Node streams'), 0.25);
  const table = layerTable([{ name: 'a', split }]);
  assert.match(table, /\| grpc-js \| 25\.0 \|/);
  assert.match(table, /\| busy ms in the profile \| 4 \|/);
});

test('what is not a V8 CPU profile is refused', () => {
  assert.throws(() => layerSplit('{"count": 3}'), /not a V8 CPU profile/);
});
