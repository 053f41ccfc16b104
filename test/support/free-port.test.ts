// The ports test servers are given: never one this process was given before. Binding to
// port 0 and closing hands out a recently closed port again often (272 repeats in 2000
// binds on the development machine), which once gave a node the same gRPC and HTTP port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from './free-port.js';

test('2000 ports in a row are all different', async () => {
  const ports = new Set<number>();
  for (let i = 0; i < 2000; i++) ports.add(await freePort());
  assert.equal(ports.size, 2000);
});
