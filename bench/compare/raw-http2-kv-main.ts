// The program behind the raw HTTP/2 floor (raw-http2-kv-server.ts), so that it runs in a
// process of its own as the other servers of the comparison do and its CPU can be read
// from /proc:
//   node dist/bench/compare/raw-http2-kv-main.js [--host H] [--port P] [--value-bytes B]
//        [--tls-dir DIR --node-id ID]
// It prints "raw-http2 listening on H:P" once it accepts calls (a launcher waits for that
// line) and closes its connections and stops on SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { VALUE_BYTES_MAX_CEILING } from '../../src/limits.js';
import { RAW_HTTP2_READY_LINE, startRawHttp2KvServer } from './raw-http2-kv-server.js';

const USAGE = 'usage: raw-http2-kv-main.js [--host H] [--port P] [--value-bytes B] [--tls-dir DIR --node-id ID]\n';

function integer(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) > max) throw new Error(`--${flag} must be an integer from 0 to ${max}, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, 'value-bytes': { type: 'string' }, 'tls-dir': { type: 'string' }, 'node-id': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if ((values['tls-dir'] === undefined) !== (values['node-id'] === undefined)) throw new Error('--tls-dir and --node-id go together (the node certificate in that directory names that node)');
  const server = await startRawHttp2KvServer({
    host: values.host,
    port: integer('port', values.port, 0, 65535),
    valueBytes: integer('value-bytes', values['value-bytes'], 100, VALUE_BYTES_MAX_CEILING),
    ...(values['tls-dir'] === undefined ? {} : { tls: { dir: values['tls-dir'], nodeId: values['node-id']! } }),
  });
  process.stdout.write(`${RAW_HTTP2_READY_LINE} ${values.host}:${server.port}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await server.close();
  process.stdout.write(`raw-http2 stopped by ${signal}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`raw-http2: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  },
);
