// Channel and server options shared by every gRPC endpoint we create: the message
// ceiling from src/limits.ts, on a server the calls one connection may have open at
// once, keepalive so a dead peer is noticed while idle, and a short reconnect backoff so
// a restarted node is back in the fan-out within seconds rather than after grpc's
// default of up to two minutes. Until a dead peer's channel reconnects, calls to it fail
// at once (PEER_UNREACHABLE) instead of waiting, so a quorum that can still be met is met
// without delay. A peer that sends this node a call is alive, and the transport then
// reconnects to it without waiting out the backoff
// (docs/decisions/0036-reconnect-on-sign-of-life.md).
import type { ChannelOptions } from '@grpc/grpc-js';
import { GRPC_CONNECTION_STREAMS_MAX, GRPC_MESSAGE_BYTES_MAX } from '../limits.js';

export const KEEPALIVE_TIME_MS = 10_000;
export const KEEPALIVE_TIMEOUT_MS = 5_000;
export const RECONNECT_BACKOFF_INITIAL_MS = 100;
export const RECONNECT_BACKOFF_MAX_MS = 1_000;
/** A peer's channel is replaced on a sign of life at most this often (GrpcTransport.peerSeen). */
export const CHANNEL_RENEW_INTERVAL_MS_MIN = 250;
/** How long a connection attempt under way is watched after a sign of life from its peer. */
export const CHANNEL_ATTEMPT_WATCH_MS = 5_000;

export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_send_message_length': GRPC_MESSAGE_BYTES_MAX,
  'grpc.max_receive_message_length': GRPC_MESSAGE_BYTES_MAX,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_INITIAL_MS,
  'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MAX_MS,
};

export const SERVER_OPTIONS: ChannelOptions = {
  // The outer bound of every request; each method's own, smaller one is checked before
  // decoding (checked-service.ts).
  'grpc.max_send_message_length': GRPC_MESSAGE_BYTES_MAX,
  'grpc.max_receive_message_length': GRPC_MESSAGE_BYTES_MAX,
  // Sent in the server's HTTP/2 SETTINGS (grpc-js passes it to node:http2 as
  // maxConcurrentStreams): a grpc-js client queues its calls past it; a client that opens
  // more streams anyway has them reset and its connection closed (GOAWAY), and no handler
  // runs for them.
  'grpc.max_concurrent_streams': GRPC_CONNECTION_STREAMS_MAX,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
};
