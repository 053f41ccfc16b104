// The `qkv-from` metadata every Replica call carries: the sending node's id. A node
// takes any call from a peer as a sign that the peer is running (the failure detector's
// recordInbound) and, when its own channel to that peer is waiting out a reconnect
// backoff, as the moment to reconnect (GrpcTransport.peerSeen).
import * as grpc from '@grpc/grpc-js';

export const SENDER_METADATA_KEY = 'qkv-from';

/** Metadata naming `nodeId` as the sender; empty when the transport has no id (tests). */
export function senderMetadata(nodeId: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (nodeId !== undefined) metadata.set(SENDER_METADATA_KEY, nodeId);
  return metadata;
}

/** The sender named by a call's metadata, or undefined. */
export function senderOf(metadata: grpc.Metadata): string | undefined {
  const [sender] = metadata.get(SENDER_METADATA_KEY);
  return typeof sender === 'string' && sender !== '' ? sender : undefined;
}
