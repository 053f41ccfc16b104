// BackupAdmin over gRPC: one QuorumKvClient per backup, to the member's Admin service,
// closed when the backup ends (a backup is rare and long; no channel is worth keeping).
import type * as grpc from '@grpc/grpc-js';
import { QuorumKvClient } from '../client/quorum-kv-client.js';
import type { BackupProgress__Output } from '../protocol/generated/quorumkv/v1/BackupProgress.js';
import type { RestoreProgress__Output } from '../protocol/generated/quorumkv/v1/RestoreProgress.js';
import type { BackupAdmin, BackupProgressView, RestoreProgressView } from './backup-admin.js';

export class GrpcBackupAdmin implements BackupAdmin {
  constructor(
    private readonly options: {
      /** The deadline of a whole backup. */
      readonly backupTimeoutMs: number;
      /** TLS with an admin client certificate; plaintext when not given. */
      readonly credentials?: grpc.ChannelCredentials;
    },
  ) {}

  async backup(address: string, destination: string, onProgress: (progress: BackupProgressView) => void): Promise<BackupProgressView> {
    const client = this.clientOf(address);
    try {
      const last = await client.backup(destination, (progress) => onProgress(viewOf(progress)), { timeoutMs: this.options.backupTimeoutMs });
      return viewOf(last);
    } finally {
      client.close();
    }
  }

  async restore(address: string, destination: string, backupId: string, onProgress: (progress: RestoreProgressView) => void): Promise<RestoreProgressView> {
    const client = this.clientOf(address);
    try {
      const last = await client.restore(destination, backupId, (progress) => onProgress(restoreViewOf(progress)), { timeoutMs: this.options.backupTimeoutMs });
      return restoreViewOf(last);
    } finally {
      client.close();
    }
  }

  private clientOf(address: string): QuorumKvClient {
    return new QuorumKvClient({
      addresses: [address],
      timeoutMs: this.options.backupTimeoutMs,
      ...(this.options.credentials === undefined ? {} : { credentials: this.options.credentials }),
    });
  }
}

function restoreViewOf(progress: RestoreProgress__Output): RestoreProgressView {
  return {
    backupId: progress.backupId,
    phase: progress.phase,
    filesDone: progress.filesDone,
    filesTotal: progress.filesTotal,
    records: Number(progress.records),
    bytes: Number(progress.bytes),
    done: progress.done,
  };
}

function viewOf(progress: BackupProgress__Output): BackupProgressView {
  return {
    backupId: progress.backupId,
    member: progress.member,
    membersDone: progress.membersDone,
    membersTotal: progress.membersTotal,
    missingMembers: progress.missingMembers.map((missing) => ({ nodeId: missing.nodeId, reason: missing.reason })),
    records: Number(progress.records),
    bytes: Number(progress.bytes),
    location: progress.location,
    done: progress.done,
  };
}
