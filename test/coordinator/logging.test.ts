// The coordinator logs through the core Logger port; pino satisfies it as is, so the
// node can pass its pino instance. Replica failures are logged at debug, with the peer
// and the error code, never the key.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../src/logging/logger.js';
import { MemoryCluster } from '../support/memory-cluster.js';

it('logs replica failures through a pino logger', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const cluster = new MemoryCluster({ nodes: 3, logger });
  cluster.network.disconnect('node-2');
  await cluster.node('node-0').coordinator.put(Buffer.from('secret-key'), Buffer.from('v'), { w: 2 });
  await cluster.settle();
  const failure = lines.find((line) => line.msg === 'replica request failed');
  assert.equal(failure?.peer, 'node-2');
  assert.equal(failure?.code, 'PEER_UNREACHABLE');
  assert.ok(!JSON.stringify(lines).includes('secret-key'), 'keys stay out of the logs');
  await cluster.close();
});
