// The receive gate's caller without a certificate is the remote IP address: grpc-js's
// peer string with its port left out, for IPv4 and IPv6 alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressOfPeer } from '../../src/security/caller-key.js';

test('the port is left out of a peer, IPv4 and IPv6', () => {
  assert.equal(addressOfPeer('127.0.0.1:50051'), '127.0.0.1');
  assert.equal(addressOfPeer('::ffff:10.0.0.7:4000'), '::ffff:10.0.0.7');
  assert.equal(addressOfPeer('::1:65535'), '::1');
  assert.equal(addressOfPeer('10.1.2.3'), '10.1.2.3');
});
