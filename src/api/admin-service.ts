// The Admin service: what this node knows about its cluster, for `qkv status`,
// `qkv ring` and grpcurl, and the operator's actions on it: `qkv repair`, `qkv
// decommission`, `qkv cleanup`, `qkv backup` and `qkv restore` (the last two stream
// their progress). Status and Ring are read-only and cheap: the ring
// view walks the ring's ranges once (members × vnodes of them) and touches no storage.
import * as grpc from '@grpc/grpc-js';
import type { HashRing } from '../ring/hash-ring.js';
import type { Member } from '../ring/member.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { NODE_ID_BYTES_MAX } from '../limits.js';
import type { RepairReport } from '../repair/anti-entropy.js';
import type { StreamStatus } from '../membership/ring-membership.js';
import type { SignedForget } from '../membership/ring-state-table.js';
import { decodeForgetSignature, decodeMilliseconds } from '../protocol/wire-codec.js';
import type { CleanupProgress, CleanupReport } from '../streaming/range-cleanup.js';
import { loadQuorumKvProtocol } from '../protocol/proto-package.js';
import { addCheckedService } from '../protocol/checked-service.js';
import { unary, type ApiContext } from './unary-handler.js';
import { serverStream } from './server-stream-handler.js';
import type { BackupOptions, BackupProgress, BackupReport } from '../backup/cluster-backup.js';
import type { RestoreProgress } from '../backup/cluster-restore.js';
import type { BackupProgress as BackupProgressMessage } from '../protocol/generated/quorumkv/v1/BackupProgress.js';
import type { RestoreProgress as RestoreProgressMessage } from '../protocol/generated/quorumkv/v1/RestoreProgress.js';
import type { AdminHandlers } from '../protocol/generated/quorumkv/v1/Admin.js';
import type { RingOwner } from '../protocol/generated/quorumkv/v1/RingOwner.js';

export type NodeState = 'STARTING' | 'SERVING' | 'DRAINING';

/** The node as the Admin service sees it; the node process implements it. */
export interface ClusterView {
  readonly nodeId: string;
  readonly softwareVersion: string;
  readonly startedAtMs: number;
  readonly keyBytesMax: number;
  state(): NodeState;
  ring(): HashRing;
  members(): readonly Member[];
  /** Failure detector state of a peer: up, suspect or down. */
  liveness(peer: string): string;
  /** Hint bytes held per peer. */
  hintBytes(): ReadonlyMap<string, number>;
  /** Runs one anti-entropy pass now. */
  repair(): Promise<RepairReport>;
  /** Starts decommissioning this node; returns its ring state after the call. */
  decommission(): Promise<string>;
  /** Forgets a member gone for good (`qkv forget`); returns its ring state before. */
  forget(member: string, decision?: SignedForget): Promise<string>;
  /** This node's ring state as Status shows it (JOINING, NORMAL, LEAVING, LEFT). */
  ringState(): string;
  /** A member's ring state as this node last heard it; UNKNOWN before it has heard. */
  memberRingState(id: string): string;
  /** Progress of a join or decommission under way; undefined when none is. */
  streamStatus(): StreamStatus | undefined;
  /** Deletes the records of the ranges this node no longer replicates; waits for a running one. */
  cleanup(): Promise<CleanupReport>;
  /** The running or last cleanup, and whether one is needed. */
  cleanupStatus(): CleanupProgress & { readonly needed: boolean };
  /** Backs up every member into one set at `destination` (src/backup/cluster-backup.ts). */
  backup(destination: string, options: BackupOptions, onProgress: (progress: BackupProgress) => void, signal: AbortSignal): Promise<BackupReport>;
  /** Restores a set into the cluster (src/backup/cluster-restore.ts); '' is the newest. */
  restore(destination: string, backupId: string, onProgress: (progress: RestoreProgress) => void, signal: AbortSignal): Promise<RestoreProgress>;
}

const TOKEN_SPACE = 1n << 64n;

export function adminServiceHandlers(view: ClusterView, context: ApiContext): AdminHandlers {
  return {
    Status: unary(context, 'Status', async () => {
      const ring = view.ring();
      const hintBytes = view.hintBytes();
      const stream = view.streamStatus();
      const cleanup = view.cleanupStatus();
      return {
        nodeId: view.nodeId,
        state: view.state(),
        version: view.softwareVersion,
        uptimeMs: String(Math.max(0, Date.now() - view.startedAtMs)),
        ringDigest: ring.digest,
        replicationFactor: ring.replicationFactor,
        vnodes: ring.vnodes,
        members: view.members().map((member) => ({
          id: member.id,
          address: member.address,
          zone: member.zone ?? '',
          ready: member.ready,
          self: member.id === view.nodeId,
          liveness: member.id === view.nodeId ? '' : view.liveness(member.id),
          hintBytes: String(hintBytes.get(member.id) ?? 0),
          ringState: view.memberRingState(member.id),
          retained: member.retained === true,
        })),
        ringState: view.ringState(),
        stream:
          stream === undefined
            ? null
            : {
                rangesDone: stream.rangesDone,
                rangesTotal: stream.rangesTotal,
                keys: String(stream.keys),
                bytes: String(stream.bytes),
                phase: stream.phase,
                lastError: stream.lastError,
                waitingFor: [...stream.waitingFor],
                movement: stream.kind,
              },
        cleanup: {
          needed: cleanup.needed,
          running: cleanup.running,
          rangesDone: cleanup.rangesDone,
          rangesTotal: cleanup.rangesTotal,
          recordsScanned: String(cleanup.recordsScanned),
          recordsRemoved: String(cleanup.recordsRemoved),
          lastError: cleanup.lastError,
        },
      };
    }),

    Repair: unary(context, 'Repair', async () => {
      const report = await view.repair();
      return {
        rangesCompared: report.rangesCompared,
        rangesMismatched: report.rangesMismatched,
        keysPulled: String(report.keysPulled),
        keysPushed: String(report.keysPushed),
        peersSkipped: report.peersSkipped,
        elapsedMs: String(report.elapsedMs),
      };
    }),

    Decommission: unary(context, 'Decommission', async () => ({ ringState: await view.decommission() })),

    Forget: unary(context, 'Forget', async (request) => {
      const member = request.member;
      if (member === '') throw new InvalidArgumentError('member is empty: name the member to forget');
      if (Buffer.byteLength(member, 'utf8') > NODE_ID_BYTES_MAX) throw new InvalidArgumentError(`member is longer than ${NODE_ID_BYTES_MAX} bytes`);
      // The admin's signature travels with the mark to every node, which checks it
      // (docs/decisions/0268-forget-signed-by-an-admin.md); an unsigned request (version 0)
      // is taken only without TLS.
      const version = decodeMilliseconds(request.version, 'version');
      const signed = decodeForgetSignature(request.signerCertificate, request.signature, 'forget');
      const decision = version === 0 && signed === undefined ? undefined : { version, signed };
      return { member, previousRingState: await view.forget(member, decision) };
    }),

    Cleanup: unary(context, 'Cleanup', async () => {
      const report = await view.cleanup();
      return {
        ranges: report.ranges,
        recordsScanned: String(report.recordsScanned),
        recordsRemoved: String(report.recordsRemoved),
        elapsedMs: String(report.elapsedMs),
        ringDigest: report.ringDigest,
      };
    }),

    Backup: serverStream(context, 'Backup', async (request, send: (message: BackupProgressMessage) => void, signal) => {
      const report = await view.backup(request.destination, { requireAllMembers: request.requireAllMembers }, (progress) => send(backupProgressMessage(progress, '')), signal);
      send(backupProgressMessage(report, report.location));
    }),

    Restore: serverStream(context, 'Restore', async (request, send: (message: RestoreProgressMessage) => void, signal) => {
      const last = await view.restore(request.destination, request.backupId, (progress) => send(restoreProgressMessage(progress)), signal);
      send(restoreProgressMessage(last));
    }),

    Ring: unary(context, 'Ring', async (request) => {
      const ring = view.ring();
      const response = {
        digest: ring.digest,
        replicationFactor: ring.replicationFactor,
        vnodes: ring.vnodes,
        owners: ringOwners(ring),
        keyToken: '',
        preferenceList: [] as string[],
      };
      if (request.key.length > 0) {
        if (request.key.length > view.keyBytesMax) {
          throw new InvalidArgumentError(`key is ${request.key.length} bytes; the limit is ${view.keyBytesMax}`);
        }
        response.keyToken = ring.tokenOf(request.key).toString();
        response.preferenceList = [...ring.preferenceListForKey(request.key)];
      }
      return response;
    }),
  };
}

export function addAdminService(server: grpc.Server, view: ClusterView, context: ApiContext): void {
  addCheckedService(server, loadQuorumKvProtocol().grpcObject.quorumkv.v1.Admin.service, adminServiceHandlers(view, context));
}

function backupProgressMessage(progress: BackupProgress, location: string): BackupProgressMessage {
  return {
    backupId: progress.backupId,
    member: progress.member,
    membersDone: progress.membersDone,
    membersTotal: progress.membersTotal,
    missingMembers: progress.missingMembers.map((missing) => ({ nodeId: missing.nodeId, reason: missing.reason })),
    records: String(progress.records),
    bytes: String(progress.bytes),
    elapsedMs: String(progress.elapsedMs),
    done: progress.done,
    location,
  };
}

function restoreProgressMessage(progress: RestoreProgress): RestoreProgressMessage {
  return {
    backupId: progress.backupId,
    phase: progress.phase,
    filesDone: progress.filesDone,
    filesTotal: progress.filesTotal,
    records: String(progress.records),
    bytes: String(progress.bytes),
    recordsRead: String(progress.recordsRead),
    bytesSent: String(progress.bytesSent),
    elapsedMs: String(progress.elapsedMs),
    done: progress.done,
  };
}

/** Tokens and primary share of the token space per member, ascending by id. */
function ringOwners(ring: HashRing): RingOwner[] {
  const tokens = new Map<string, number>(ring.memberIds.map((id) => [id, 0]));
  const owned = new Map<string, bigint>(ring.memberIds.map((id) => [id, 0n]));
  for (const { range, replicas } of ring.ownedRanges()) {
    const primary = replicas[0];
    if (primary === undefined) continue;
    // (start, end] wraps when start >= end; start === end is the whole ring.
    const width = range.end > range.start ? range.end - range.start : TOKEN_SPACE - range.start + range.end;
    tokens.set(primary, (tokens.get(primary) ?? 0) + 1);
    owned.set(primary, (owned.get(primary) ?? 0n) + width);
  }
  return ring.memberIds.map((nodeId) => ({
    nodeId,
    tokens: tokens.get(nodeId) ?? 0,
    // Parts per million in bigint, then a float: exact enough and never above 1.
    primaryShare: Number(((owned.get(nodeId) ?? 0n) * 1_000_000n) / TOKEN_SPACE) / 1_000_000,
  }));
}
