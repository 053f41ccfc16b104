// The config loader: precedence defaults < file < environment < flags, and every bad
// value is a ConfigInvalidError that names where it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNodeConfig, nodeConfigUsage } from '../../src/config/load-config.js';
import { NODE_CONFIG_DEFAULTS, envNameOf, flagNameOf } from '../../src/config/node-config.js';
import { ConfigInvalidError } from '../../src/errors/errors.js';

const files = (contents: Record<string, string>) => (path: string): string => {
  const text = contents[path];
  if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
  return text;
};

const single = ['--node-id', 'n1', '--replication-factor', '1'];

test('defaults apply when no source sets a field', () => {
  const config = loadNodeConfig({ argv: single, env: {} });
  assert.equal(config.grpcPort, NODE_CONFIG_DEFAULTS.grpcPort);
  assert.equal(config.writeTimeoutMs, 2000);
  assert.equal(config.readTimeoutMs, 5000);
  assert.equal(config.valueBytesMax, 1024 * 1024);
  assert.equal(config.keyBytesMax, 1024);
  assert.equal(config.batchItemsMax, 1000);
});

test('precedence is defaults < file < environment < flags, field by field', () => {
  const readTextFile = files({ 'node.json': JSON.stringify({ grpcPort: 1111, httpPort: 2222, vnodes: 16, logLevel: 'debug' }) });
  const config = loadNodeConfig({
    argv: [...single, '--config', 'node.json', '--http-port', '4444'],
    env: { QKV_HTTP_PORT: '3333', QKV_VNODES: '32' },
    readTextFile,
  });
  assert.equal(config.grpcPort, 1111); // file only
  assert.equal(config.vnodes, 32); // env over file
  assert.equal(config.httpPort, 4444); // flag over env over file
  assert.equal(config.logLevel, 'debug'); // file over default
  assert.deepEqual(config.fsync, { kind: 'always' }); // default
});

test('QKV_CONFIG names the file when --config does not', () => {
  const config = loadNodeConfig({ argv: single, env: { QKV_CONFIG: 'c.json' }, readTextFile: files({ 'c.json': '{"grpcPort": 9999}' }) });
  assert.equal(config.grpcPort, 9999);
});

test('peers, fsync and booleans parse from text', () => {
  const config = loadNodeConfig({
    argv: ['--node-id', 'b', '--peer-port', '7402', '--peers', 'a=127.0.0.1:7401, b=localhost:7402,c=[::1]:7403', '--fsync', 'interval:5', '--log-pretty'],
    env: {},
  });
  assert.deepEqual(config.peers.map((p) => [p.id, p.address]), [['a', '127.0.0.1:7401'], ['b', 'localhost:7402'], ['c', '[::1]:7403']]);
  assert.deepEqual(config.fsync, { kind: 'interval', intervalMs: 5 });
  assert.equal(config.logPretty, true);
  assert.equal(loadNodeConfig({ argv: single, env: { QKV_LOG_PRETTY: 'yes' } }).logPretty, true);
});

test('every bad value is a ConfigInvalidError naming its source', () => {
  const cases: Array<[string[], Record<string, string>, Record<string, string>, RegExp]> = [
    [['--grpc-port', 'abc'], {}, {}, /--grpc-port: must be an integer in 1\.\.65535, got "abc"/],
    [['--grpc-port', '70000'], {}, {}, /--grpc-port: must be an integer/],
    [[], { QKV_HTTP_PORT: '-1' }, {}, /QKV_HTTP_PORT: must be an integer/],
    [['--fsync', 'sometimes'], {}, {}, /--fsync: fsync policy "sometimes" is not one of always, never, interval/],
    [['--value-bytes-max', String(64 * 1024 * 1024)], {}, {}, /--value-bytes-max: must be an integer in 0\.\.3145728/],
    [['--log-level', 'loud'], {}, {}, /--log-level: must be one of trace, debug/],
    [['--no-such-flag'], {}, {}, /Unknown option '--no-such-flag'/],
    [['--config', 'x.json'], {}, { 'x.json': '{"grpcPort": "7400"}' }, /config file x.json: grpcPort: must be an integer/],
    [['--config', 'x.json'], {}, { 'x.json': '{"grpc_port": 7400}' }, /unknown key "grpc_port"/],
    [['--config', 'x.json'], {}, { 'x.json': '{not json' }, /config file x.json: .*JSON/],
    [['--config', 'missing.json'], {}, {}, /config file missing.json: ENOENT/],
    [['--peers', 'a=host'], {}, {}, /--peers: address "host" is not host:port/],
    [['--peers', 'a=h:1,a=h:2'], {}, {}, /--peers: peer "a" appears twice/],
    [['--peers', 'x=h:1,y=h:2,z=h:3'], {}, {}, /peers must include this node "n1"/],
    [['--replication-factor', '3'], {}, {}, /replication factor 3 needs at least 3 members; 1 configured/],
    [['--node-id', 'bad id'], {}, {}, /--node-id: node id "bad id" must start/],
  ];
  for (const [argv, env, contents, pattern] of cases) {
    const base = argv.includes('--node-id') ? [] : ['--node-id', 'n1'];
    const rf = argv.includes('--replication-factor') ? [] : ['--replication-factor', '1'];
    assert.throws(
      () => loadNodeConfig({ argv: [...base, ...rf, ...argv], env, readTextFile: files(contents) }),
      (error: unknown) => error instanceof ConfigInvalidError && error.code === 'CONFIG_INVALID' && pattern.test(error.message),
      `${JSON.stringify(argv)} ${JSON.stringify(env)}`,
    );
  }
});

test('flag and environment names derive from the field names; usage lists them all', () => {
  assert.equal(flagNameOf('inFlightRequestsMax'), 'in-flight-requests-max');
  assert.equal(envNameOf('inFlightRequestsMax'), 'QKV_IN_FLIGHT_REQUESTS_MAX');
  const usage = nodeConfigUsage();
  for (const key of Object.keys(NODE_CONFIG_DEFAULTS) as Array<keyof typeof NODE_CONFIG_DEFAULTS>) {
    assert.match(usage, new RegExp(`--${flagNameOf(key)}\\b`));
    assert.match(usage, new RegExp(envNameOf(key)));
  }
});

test('plaintext together with TLS settings is refused, wherever each came from; ports must differ', () => {
  const refused = (argv: string[], env: Record<string, string>, reason: RegExp): void => {
    assert.throws(() => loadNodeConfig({ argv: [...single, ...argv], env }), (error: unknown) => error instanceof ConfigInvalidError && reason.test(error.message));
  };
  refused(['--tls-dir', 'certs/n1'], { QKV_INSECURE: 'true' }, /--insecure \(QKV_INSECURE\) and --tls-dir/);
  refused(['--insecure', '--users-file', 'users.json'], {}, /--users-file/);
  refused(['--peer-port', '7400'], {}, /grpc port and peer port are both 7400/);
  // A --peers list of client ports (the format before the peer port existed).
  assert.throws(
    () => loadNodeConfig({ argv: ['--node-id', 'a', '--grpc-port', '7401', '--peers', 'a=127.0.0.1:7401,b=127.0.0.1:7402', '--replication-factor', '2'], env: {} }),
    (error: unknown) => error instanceof ConfigInvalidError && /lists this node "a" at port 7401, but its --peer-port is 7500/.test(error.message),
  );
  assert.equal(loadNodeConfig({ argv: [...single, '--tls-dir', 'certs/n1'], env: {} }).insecure, false);
  assert.equal(loadNodeConfig({ argv: single, env: { QKV_INSECURE: 'on' } }).insecure, true);
});
