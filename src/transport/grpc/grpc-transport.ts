// The gRPC adapter of the PeerTransport port. One long-lived channel per peer (HTTP/2
// with keepalive, see src/protocol/grpc-options.ts), and per peer two TurnCoalescers, one
// for applies and one for reads, so all the messages for one peer from one event-loop
// turn travel in one batch. The results fan back to each caller. Each batch is one
// request on a long-lived Exchange stream to the peer, one stream for applies and one
// for reads so that reads never queue behind a large apply (exchange-stream.ts,
// docs/decisions/0062-replica-exchange-stream.md).
//
// A message to this node itself skips the network and goes straight to the local
// ReplicaHandler: a coordinator is usually one of the key's replicas.
//
// Every call and stream names the sending node in the `qkv-from` metadata: the receiver
// takes any message as a sign of life (FailureDetector.recordInbound).
//
// Failures keep their meaning across the wire: a peer's QkvError comes back with its
// code (from the `qkv-error-code` metadata); a peer that cannot be reached is
// PEER_UNREACHABLE; a peer that does not answer in time is DEADLINE_EXCEEDED.
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { PeerUnreachableError, QkvError, ShuttingDownError } from '../../errors/errors.js';
import {
  KEY_BYTES_MAX_CEILING,
  REPLICA_BATCH_BYTES_MAX,
  REPLICA_BATCH_ITEMS_MAX,
  REPLICA_QUEUE_MESSAGES_MAX,
  REPLICA_STREAM_REQUESTS_MAX,
  VALUE_BYTES_MAX_CEILING,
} from '../../limits.js';
import type { Member } from '../../ring/member.js';
import type { KvRecord } from '../../storage/record.js';
import type { ApplyCallOptions, MerkleTreeSummary, PeerCallOptions, PeerTransport, ProbeAnswer, ProbeHello, ReadCallOptions, ReplicaHandler } from '../../replica/peer-transport.js';
import { decodeAnnouncedRingState, decodeForgottenMembers, encodeForgottenMembers } from '../../protocol/wire-codec.js';
import { CHANNEL_ATTEMPT_WATCH_MS, CHANNEL_RENEW_INTERVAL_MS_MIN, CLIENT_CHANNEL_OPTIONS } from '../../protocol/grpc-options.js';
import { ERROR_CODE_METADATA_KEY, errorOfServiceError } from '../../protocol/error-status.js';
import { loadQuorumKvProtocol } from '../../protocol/proto-package.js';
import { decodeRecord, decodeRecordBatch, decodeUint64 } from '../../protocol/wire-codec.js';
import type { TokenRange } from '../../ring/token-range.js';
import { encodeBatch } from '../../storage/record-codec.js';
import { concatBatchEncodings } from '../../replica/shared-batch-encoding.js';
import type { ScanCursor, ScanPage } from '../../storage/storage-engine.js';
import type { ReplicaClient } from '../../protocol/generated/quorumkv/v1/Replica.js';
import type { ReadResponse__Output } from '../../protocol/generated/quorumkv/v1/ReadResponse.js';
import { ExchangeStream, type ExchangeCall } from './exchange-stream.js';
import { exchangeClientCodecs } from '../../protocol/message-codecs.js';
import { TurnCoalescer, type CoalescedMessage } from './turn-coalescer.js';
import { noReplicaCallMetrics, type ReplicaCallMetrics } from './replica-call-metrics.js';
import { senderMetadata } from '../../protocol/sender-metadata.js';

/** Per-record framing overhead assumed when sizing batches (version, flags, tags). */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * What a peer that does not know Replica.Probe (an older version, during a rolling
 * upgrade) is taken to be: NORMAL, at version 0 so that any state it announces once
 * upgraded replaces it.
 */
export const PEER_WITHOUT_RING_STATES = Object.freeze({ state: 'NORMAL' as const, version: 0 });

const RECORD_BOUNDS = { keyBytesMax: KEY_BYTES_MAX_CEILING, valueBytesMax: VALUE_BYTES_MAX_CEILING };

export interface GrpcTransportOptions {
  /** This node's id; messages to it go to `localHandler` without a network hop. */
  readonly localNodeId?: string;
  readonly localHandler?: ReplicaHandler;
  /** The members known at start; later changes arrive through `setMembers`. */
  readonly members?: readonly Member[];
  readonly metrics?: ReplicaCallMetrics;
  readonly queueMessagesMax?: number;
  readonly batchItemsMax?: number;
  readonly batchBytesMax?: number;
  /** Batches waiting for a reply on one Exchange stream. */
  readonly streamRequestsMax?: number;
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * The credentials of the channel to `peer` (src/security/tls-credentials.ts: mutual
   * TLS that accepts only that member's certificate); plaintext when not given.
   */
  readonly credentialsFor?: (peer: string) => grpc.ChannelCredentials;
}

type ReadAnswer = KvRecord | undefined;

/** One caller's records in a coalesced Apply, with their batch encoding when the caller made it. */
interface ApplyMessage {
  readonly records: readonly KvRecord[];
  readonly encoding: Buffer | undefined;
}

/** One caller's keys in a coalesced Read, and the bytes it will hold at most (ReadCallOptions). */
interface ReadMessage {
  readonly keys: readonly Buffer[];
  readonly answerBytesMax?: number;
}

interface PeerLink {
  readonly peer: string;
  readonly address: string;
  /** Replaced by renewChannel; calls take the current one when they start. */
  client: ReplicaClient;
  readonly applies: TurnCoalescer<ApplyMessage, undefined>;
  readonly reads: TurnCoalescer<ReadMessage, ReadAnswer[]>;
  /** Each opens on the current `client` (the first request after an ending reopens it). */
  readonly applyStream: ExchangeStream;
  readonly readStream: ExchangeStream;
  /** Date.now() of the last renewChannel, 0 before any. */
  renewedAtMs: number;
  /** A watch for the end of a connection attempt is pending (see peerSeen). */
  watching: boolean;
}

export class GrpcTransport implements PeerTransport {
  private readonly addresses = new Map<string, string>();
  private readonly links = new Map<string, PeerLink>();
  private readonly metrics: ReplicaCallMetrics;
  /** The Exchange stream's hand-written codecs, made on first use. */
  private codecs: ReturnType<typeof exchangeClientCodecs> | undefined;
  private closed = false;

  constructor(private readonly options: GrpcTransportOptions = {}) {
    this.metrics = options.metrics ?? noReplicaCallMetrics;
    if (options.members !== undefined) this.setMembers(options.members);
  }

  /**
   * Replaces the address book; channels to removed or moved peers are closed. A member
   * with no address ('': a retained member whose last address another member now has,
   * src/membership/retained-members.ts) is known but unreachable.
   */
  setMembers(members: readonly Member[]): void {
    this.addresses.clear();
    for (const member of members) if (member.address !== '') this.addresses.set(member.id, member.address);
    for (const [peer, link] of this.links) {
      if (this.addresses.get(peer) !== link.address) this.dropLink(peer, link);
    }
  }

  async apply(peer: string, records: readonly KvRecord[], options: ApplyCallOptions): Promise<void> {
    if (this.closed) throw new ShuttingDownError();
    if (peer === this.options.localNodeId && this.options.localHandler !== undefined) {
      return this.options.localHandler.apply(records, options.encoding);
    }
    const link = this.linkOf(peer);
    if (link instanceof QkvError) throw link;
    let bytes = 0;
    if (options.encoding !== undefined) bytes = options.encoding.length + RECORD_OVERHEAD_BYTES * records.length;
    else for (const record of records) bytes += RECORD_OVERHEAD_BYTES + record.key.length + (record.value?.length ?? 0);
    await link.applies.send({ records, encoding: options.encoding }, records.length, bytes, options.deadlineMs);
  }

  read(peer: string, keys: readonly Buffer[], options: ReadCallOptions): Promise<ReadAnswer[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError());
    if (peer === this.options.localNodeId && this.options.localHandler !== undefined) {
      return this.options.localHandler.read(keys, options.answerBytesMax);
    }
    const link = this.linkOf(peer);
    if (link instanceof QkvError) return Promise.reject(link);
    let bytes = 0;
    for (const key of keys) bytes += RECORD_OVERHEAD_BYTES + key.length;
    const message: ReadMessage = options.answerBytesMax === undefined ? { keys } : { keys, answerBytesMax: options.answerBytesMax };
    return link.reads.send(message, keys.length, bytes, options.deadlineMs);
  }

  async merkleTree(peer: string, range: TokenRange, depth: number, options: PeerCallOptions): Promise<MerkleTreeSummary> {
    if (this.closed) throw new ShuttingDownError();
    if (peer === this.options.localNodeId && this.options.localHandler?.merkleTree !== undefined) {
      return this.options.localHandler.merkleTree(range, depth);
    }
    const link = this.linkOf(peer);
    if (link instanceof QkvError) throw link;
    const request = { range: { start: range.start.toString(), end: range.end.toString() }, depth };
    return new Promise<MerkleTreeSummary>((resolve, reject) => {
      link.client.MerkleTree(request, this.senderMetadata(), { deadline: new Date(options.deadlineMs) }, (error, response) => {
        if (error !== null) return reject(peerErrorOf(peer, error));
        const leaves = response?.leaves ?? [];
        if (leaves.length === 0 || (leaves.length & (leaves.length - 1)) !== 0 || leaves.some((leaf) => leaf.length !== 32)) {
          return reject(new QkvError('INTERNAL', `peer ${peer} answered a malformed Merkle tree`));
        }
        resolve({ root: response!.root, leaves, records: Number(response!.records) });
      });
    });
  }

  async scan(peer: string, range: TokenRange, limit: number, resumeAfter: ScanCursor | undefined, options: PeerCallOptions): Promise<ScanPage> {
    if (this.closed) throw new ShuttingDownError();
    if (peer === this.options.localNodeId && this.options.localHandler?.scan !== undefined) {
      return this.options.localHandler.scan(range, limit, resumeAfter);
    }
    const link = this.linkOf(peer);
    if (link instanceof QkvError) throw link;
    const request = {
      range: { start: range.start.toString(), end: range.end.toString() },
      limit,
      resumeAfter: resumeAfter === undefined ? null : { token: resumeAfter.token.toString(), key: resumeAfter.key },
    };
    return new Promise<ScanPage>((resolve, reject) => {
      link.client.Scan(request, this.senderMetadata(), { deadline: new Date(options.deadlineMs) }, (error, response) => {
        if (error !== null) return reject(peerErrorOf(peer, error));
        try {
          const records = (response?.records ?? []).map((wire, index) => decodeRecord(wire, RECORD_BOUNDS, `records[${index}]`));
          if (records.length > limit) throw new QkvError('INTERNAL', `peer ${peer} answered ${records.length} records for a limit of ${limit}`);
          const cursor = response?.resumeAfter;
          resolve(cursor ? { records, resumeAfter: { token: decodeUint64(cursor.token, 'resume_after.token'), key: cursor.key } } : { records });
        } catch (decodeError) {
          reject(decodeError);
        }
      });
    });
  }

  async probe(peer: string, hello: ProbeHello, options: PeerCallOptions): Promise<ProbeAnswer> {
    if (this.closed) throw new ShuttingDownError();
    const link = this.linkOf(peer);
    if (link instanceof QkvError) throw link;
    const request = {
      sender: hello.sender,
      ringState: hello.ringState?.state ?? '',
      ringStateVersion: String(hello.ringState?.version ?? 0),
      heardRingState: hello.heardRingState?.state ?? '',
      heardRingStateVersion: String(hello.heardRingState?.version ?? 0),
      forgotten: encodeForgottenMembers(hello.forgotten),
    };
    return new Promise<ProbeAnswer>((resolve, reject) => {
      link.client.Probe(request, this.senderMetadata(), { deadline: new Date(options.deadlineMs) }, (error, response) => {
        // A peer of a version without ring states was a full member of its cluster.
        if (error?.code === grpc.status.UNIMPLEMENTED) return resolve({ ringState: PEER_WITHOUT_RING_STATES });
        if (error !== null) return reject(peerErrorOf(peer, error));
        try {
          const ringState = decodeAnnouncedRingState(response?.ringState ?? '', response?.ringStateVersion ?? '0', 'ring_state');
          const read = response?.ringDigest ?? '';
          const write = response?.writeRingDigest ?? '';
          // Left out when empty: an answer then is what it was before forgotten members existed.
          const forgotten = decodeForgottenMembers(response?.forgotten, 'forgotten');
          const listed = forgotten.length === 0 ? {} : { forgotten };
          resolve(read === '' || write === '' ? { ringState, ...listed } : { ringState, ringDigests: { read, write }, ...listed });
        } catch (decodeError) {
          reject(new QkvError('INTERNAL', `peer ${peer} answered a malformed probe`, { cause: decodeError }));
        }
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [peer, link] of this.links) this.dropLink(peer, link);
  }

  /**
   * A call from `peer` arrived, so it is running now. When this node's channel to it is
   * waiting out a reconnect backoff (TRANSIENT_FAILURE, in which grpc-js fails every call
   * at once), the channel is replaced by a fresh one that connects immediately; a channel
   * in the middle of a connection attempt is watched and replaced if that attempt fails.
   * A restarted peer probes every peer before it reports ready, so by then every peer
   * reconnects to it (docs/decisions/0036-reconnect-on-sign-of-life.md).
   */
  peerSeen(peer: string): void {
    const link = this.links.get(peer);
    if (link === undefined || this.closed) return;
    const channel = link.client.getChannel();
    const state = channel.getConnectivityState(false);
    if (state === grpc.connectivityState.TRANSIENT_FAILURE) {
      this.renewChannel(link);
    } else if (state === grpc.connectivityState.CONNECTING && !link.watching) {
      // An attempt that began before the peer listened fails after its message arrived.
      link.watching = true;
      channel.watchConnectivityState(state, Date.now() + CHANNEL_ATTEMPT_WATCH_MS, () => {
        link.watching = false;
        if (this.links.get(peer) !== link || link.client.getChannel() !== channel) return;
        if (channel.getConnectivityState(false) === grpc.connectivityState.TRANSIENT_FAILURE) this.renewChannel(link);
      });
    }
  }

  private renewChannel(link: PeerLink): void {
    const nowMs = Date.now();
    // A peer that can reach this node while this node cannot reach it (an asymmetric
    // partition) would otherwise cost a connection attempt per message it sends.
    if (nowMs - link.renewedAtMs < CHANNEL_RENEW_INTERVAL_MS_MIN) return;
    link.renewedAtMs = nowMs;
    const stale = link.client;
    link.client = this.newClient(link.peer, link.address);
    link.client.getChannel().getConnectivityState(true);
    // In TRANSIENT_FAILURE no call waits on the old channel: grpc-js failed them all.
    stale.close();
  }

  private exchangeCodecs(): ReturnType<typeof exchangeClientCodecs> {
    this.codecs ??= exchangeClientCodecs(loadQuorumKvProtocol().grpcObject.quorumkv.v1.Replica.service);
    return this.codecs;
  }

  private newClient(peer: string, address: string): ReplicaClient {
    const { grpcObject } = loadQuorumKvProtocol();
    const credentials = this.options.credentialsFor?.(peer) ?? grpc.credentials.createInsecure();
    return new grpcObject.quorumkv.v1.Replica(address, credentials, {
      ...CLIENT_CHANNEL_OPTIONS,
      // A channel of its own subchannels: grpc-js otherwise shares subchannels between
      // channels to the same address, and a renewed channel would get the old one back,
      // backoff and all.
      'grpc.use_local_subchannel_pool': 1,
      ...this.options.channelOptions,
    });
  }

  private linkOf(peer: string): PeerLink | QkvError {
    const address = this.addresses.get(peer);
    if (address === undefined) return new PeerUnreachableError(peer, { cause: new Error('no address is known for it') });
    const existing = this.links.get(peer);
    if (existing !== undefined) return existing;
    const bounds = {
      queueMessagesMax: this.options.queueMessagesMax ?? REPLICA_QUEUE_MESSAGES_MAX,
      batchItemsMax: this.options.batchItemsMax ?? REPLICA_BATCH_ITEMS_MAX,
      batchBytesMax: this.options.batchBytesMax ?? REPLICA_BATCH_BYTES_MAX,
    };
    // Exchange messages are encoded and decoded by hand-written codecs (src/protocol/message-codecs.ts).
    const codecs = this.exchangeCodecs();
    const stream = {
      peer,
      open: (): ExchangeCall => link.client.makeBidiStreamRequest(codecs.path, codecs.serialize, codecs.deserialize, this.senderMetadata()),
      pendingMax: this.options.streamRequestsMax ?? REPLICA_STREAM_REQUESTS_MAX,
    };
    const link: PeerLink = {
      peer,
      address,
      client: this.newClient(peer, address),
      applies: new TurnCoalescer({
        name: `apply to ${peer}`,
        ...bounds,
        dispatch: (messages, deadlineMs) => this.sendApply(peer, link, messages, deadlineMs),
      }),
      reads: new TurnCoalescer({
        name: `read from ${peer}`,
        ...bounds,
        dispatch: (messages, deadlineMs) => this.sendRead(peer, link, messages, deadlineMs),
      }),
      applyStream: new ExchangeStream(stream),
      readStream: new ExchangeStream(stream),
      renewedAtMs: 0,
      watching: false,
    };
    this.links.set(peer, link);
    return link;
  }

  private dropLink(peer: string, link: PeerLink): void {
    this.links.delete(peer);
    const error = this.closed ? new ShuttingDownError() : new PeerUnreachableError(peer, { cause: new Error('peer left or moved') });
    link.applies.close(error);
    link.reads.close(error);
    link.applyStream.close(error);
    link.readStream.close(error);
    // Closing a channel lets calls already started finish; nothing new is sent on it.
    link.client.close();
  }

  private async sendApply(
    peer: string,
    link: PeerLink,
    messages: ReadonlyArray<CoalescedMessage<ApplyMessage>>,
    deadlineMs: number,
  ): Promise<undefined[]> {
    // One buffer in the storage codec's batch format for the whole batch: no message
    // object, no decimal stamp and no Long per record (docs/decisions/0061-replica-batch-encoding.md).
    // The callers' own encodings are joined as they are (docs/decisions/0200-batch-encoded-once-per-write.md).
    const batch = messages.every((message) => message.payload.encoding !== undefined)
      ? concatBatchEncodings(messages.map((message) => message.payload.encoding!))
      : encodeBatch(messages.length === 1 ? messages[0]!.payload.records : messages.flatMap((message) => message.payload.records));
    const startedMs = performance.now();
    try {
      const reply = await link.applyStream.request({ apply: { batch } }, deadlineMs);
      // Only an apply reply acknowledges the records.
      if (reply.body !== 'apply') throw new QkvError('INTERNAL', `peer ${peer} answered an apply with a ${reply.body ?? 'missing'} body`);
    } catch (error) {
      this.observe('apply', peer, startedMs, messages.length, false);
      throw error;
    }
    this.observe('apply', peer, startedMs, messages.length, true);
    return messages.map(() => undefined);
  }

  /**
   * One Read for the coalesced keys. A replica answers at most REPLICA_ANSWER_BYTES_MAX
   * of records per call, always at least one key; when it stops early the rest are asked
   * for again under the same deadline until every key has its answer, except the keys of
   * a message whose answers already hold its `answerBytesMax`: that message is answered
   * with the prefix it has (docs/decisions/0040-bounded-batch-get-memory.md).
   */
  private async sendRead(
    peer: string,
    link: PeerLink,
    messages: ReadonlyArray<CoalescedMessage<ReadMessage>>,
    deadlineMs: number,
  ): Promise<ReadAnswer[][]> {
    const answers: ReadAnswer[][] = messages.map(() => []);
    const bytes: number[] = messages.map(() => 0);
    // Messages still waiting for answers, in order; each asks for the keys after its answers.
    let open: number[] = [];
    messages.forEach((message, m) => {
      if (message.payload.keys.length > 0) open.push(m);
    });
    if (open.length === 0) {
      // A Read of no keys still reaches the peer, and fails like any other when it cannot.
      const response = await this.callRead(peer, link, [], messages.length, deadlineMs);
      const part = response === undefined ? [] : readAnswers(peer, response);
      if (part.length > 0) throw new QkvError('INTERNAL', `peer ${peer} answered ${part.length} results for 0 keys`);
    }
    while (open.length > 0) {
      // protobufjs only reads the array; the cast drops `readonly` for the generated type.
      const asked = (
        open.length === 1 && answers[open[0]!]!.length === 0
          ? messages[open[0]!]!.payload.keys
          : open.flatMap((m) => (answers[m]!.length === 0 ? messages[m]!.payload.keys : messages[m]!.payload.keys.slice(answers[m]!.length)))
      ) as Buffer[];
      const response = await this.callRead(peer, link, asked, messages.length, deadlineMs);
      const part = response === undefined ? [] : readAnswers(peer, response);
      if (part.length > asked.length || part.length === 0) {
        throw new QkvError('INTERNAL', `peer ${peer} answered ${part.length} results for ${asked.length} keys`);
      }
      let next = 0;
      const stillOpen: number[] = [];
      for (const m of open) {
        const { keys, answerBytesMax } = messages[m]!.payload;
        const got = answers[m]!;
        let held = bytes[m]!;
        const take = Math.min(keys.length - got.length, part.length - next);
        for (let i = 0; i < take; i++) {
          const record = part[next + i];
          if (record !== undefined) {
            if (!record.key.equals(keys[got.length]!)) throw new QkvError('INTERNAL', `peer ${peer} answered a different key at ${next + i}`);
            held += record.key.length + (record.value?.length ?? 0);
          }
          got.push(record);
        }
        next += take;
        bytes[m] = held;
        const bounded = answerBytesMax !== undefined && got.length > 0 && held >= answerBytesMax;
        if (got.length < keys.length && !bounded) stillOpen.push(m);
      }
      open = stillOpen;
    }
    return answers;
  }

  private async callRead(peer: string, link: PeerLink, keys: Buffer[], messages: number, deadlineMs: number): Promise<ReadResponse__Output | undefined> {
    const startedMs = performance.now();
    let response: ReadResponse__Output | undefined;
    try {
      response = (await link.readStream.request({ read: { keys } }, deadlineMs)).read ?? undefined;
    } catch (error) {
      this.observe('read', peer, startedMs, messages, false);
      throw error;
    }
    this.observe('read', peer, startedMs, messages, true);
    return response;
  }

  /** Names this node to the peer, which takes any call as a sign of life (src/protocol/sender-metadata.ts). */
  private senderMetadata(): grpc.Metadata {
    return senderMetadata(this.options.localNodeId);
  }

  /** `startedMs` from performance.now(): monotonic like hrtime, and no bigint per call. */
  private observe(op: 'apply' | 'read', peer: string, startedMs: number, messages: number, ok: boolean): void {
    const seconds = (performance.now() - startedMs) / 1000;
    this.metrics.observeCall(op, peer, ok ? 'ok' : 'error', seconds, messages);
  }
}

/** One answer per key of a ReadResponse: its found flags, and the found keys' records from its batch. */
function readAnswers(peer: string, response: ReadResponse__Output): ReadAnswer[] {
  let records: ReturnType<typeof decodeRecordBatch>;
  try {
    // Views into the reply: the records go to the client's answer or to read repair and are gone.
    records = response.batch.length === 0 ? [] : decodeRecordBatch(response.batch, RECORD_BOUNDS, 'batch', { views: true });
  } catch (error) {
    throw new QkvError('INTERNAL', `peer ${peer} sent an undecodable read batch`, { cause: error });
  }
  let next = 0;
  const answers = response.found.map((found) => (found ? records[next++] : undefined));
  if (next !== records.length) {
    throw new QkvError('INTERNAL', `peer ${peer} sent ${records.length} records for ${next} found keys`);
  }
  return answers;
}

function peerErrorOf(peer: string, error: grpc.ServiceError): QkvError {
  if (error.metadata?.get(ERROR_CODE_METADATA_KEY).length) return errorOfServiceError(error);
  if (error.code === grpc.status.DEADLINE_EXCEEDED) {
    return new QkvError('DEADLINE_EXCEEDED', `peer ${peer} did not answer before the deadline`, { cause: error });
  }
  return new PeerUnreachableError(peer, { cause: error });
}
