import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _quorumkv_v1_AdminClient, AdminDefinition as _quorumkv_v1_AdminDefinition } from './quorumkv/v1/Admin.js';
import type { BackupProgress as _quorumkv_v1_BackupProgress, BackupProgress__Output as _quorumkv_v1_BackupProgress__Output } from './quorumkv/v1/BackupProgress.js';
import type { BackupRequest as _quorumkv_v1_BackupRequest, BackupRequest__Output as _quorumkv_v1_BackupRequest__Output } from './quorumkv/v1/BackupRequest.js';
import type { CleanupRequest as _quorumkv_v1_CleanupRequest, CleanupRequest__Output as _quorumkv_v1_CleanupRequest__Output } from './quorumkv/v1/CleanupRequest.js';
import type { CleanupResponse as _quorumkv_v1_CleanupResponse, CleanupResponse__Output as _quorumkv_v1_CleanupResponse__Output } from './quorumkv/v1/CleanupResponse.js';
import type { CleanupStatus as _quorumkv_v1_CleanupStatus, CleanupStatus__Output as _quorumkv_v1_CleanupStatus__Output } from './quorumkv/v1/CleanupStatus.js';
import type { DecommissionRequest as _quorumkv_v1_DecommissionRequest, DecommissionRequest__Output as _quorumkv_v1_DecommissionRequest__Output } from './quorumkv/v1/DecommissionRequest.js';
import type { DecommissionResponse as _quorumkv_v1_DecommissionResponse, DecommissionResponse__Output as _quorumkv_v1_DecommissionResponse__Output } from './quorumkv/v1/DecommissionResponse.js';
import type { ForgetRequest as _quorumkv_v1_ForgetRequest, ForgetRequest__Output as _quorumkv_v1_ForgetRequest__Output } from './quorumkv/v1/ForgetRequest.js';
import type { ForgetResponse as _quorumkv_v1_ForgetResponse, ForgetResponse__Output as _quorumkv_v1_ForgetResponse__Output } from './quorumkv/v1/ForgetResponse.js';
import type { MemberStatus as _quorumkv_v1_MemberStatus, MemberStatus__Output as _quorumkv_v1_MemberStatus__Output } from './quorumkv/v1/MemberStatus.js';
import type { MissingMember as _quorumkv_v1_MissingMember, MissingMember__Output as _quorumkv_v1_MissingMember__Output } from './quorumkv/v1/MissingMember.js';
import type { RepairRequest as _quorumkv_v1_RepairRequest, RepairRequest__Output as _quorumkv_v1_RepairRequest__Output } from './quorumkv/v1/RepairRequest.js';
import type { RepairResponse as _quorumkv_v1_RepairResponse, RepairResponse__Output as _quorumkv_v1_RepairResponse__Output } from './quorumkv/v1/RepairResponse.js';
import type { RestoreProgress as _quorumkv_v1_RestoreProgress, RestoreProgress__Output as _quorumkv_v1_RestoreProgress__Output } from './quorumkv/v1/RestoreProgress.js';
import type { RestoreRequest as _quorumkv_v1_RestoreRequest, RestoreRequest__Output as _quorumkv_v1_RestoreRequest__Output } from './quorumkv/v1/RestoreRequest.js';
import type { RingOwner as _quorumkv_v1_RingOwner, RingOwner__Output as _quorumkv_v1_RingOwner__Output } from './quorumkv/v1/RingOwner.js';
import type { RingRequest as _quorumkv_v1_RingRequest, RingRequest__Output as _quorumkv_v1_RingRequest__Output } from './quorumkv/v1/RingRequest.js';
import type { RingResponse as _quorumkv_v1_RingResponse, RingResponse__Output as _quorumkv_v1_RingResponse__Output } from './quorumkv/v1/RingResponse.js';
import type { StatusRequest as _quorumkv_v1_StatusRequest, StatusRequest__Output as _quorumkv_v1_StatusRequest__Output } from './quorumkv/v1/StatusRequest.js';
import type { StatusResponse as _quorumkv_v1_StatusResponse, StatusResponse__Output as _quorumkv_v1_StatusResponse__Output } from './quorumkv/v1/StatusResponse.js';
import type { StreamProgress as _quorumkv_v1_StreamProgress, StreamProgress__Output as _quorumkv_v1_StreamProgress__Output } from './quorumkv/v1/StreamProgress.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorumkv: {
    v1: {
      Admin: SubtypeConstructor<typeof grpc.Client, _quorumkv_v1_AdminClient> & { service: _quorumkv_v1_AdminDefinition }
      BackupProgress: MessageTypeDefinition<_quorumkv_v1_BackupProgress, _quorumkv_v1_BackupProgress__Output>
      BackupRequest: MessageTypeDefinition<_quorumkv_v1_BackupRequest, _quorumkv_v1_BackupRequest__Output>
      CleanupRequest: MessageTypeDefinition<_quorumkv_v1_CleanupRequest, _quorumkv_v1_CleanupRequest__Output>
      CleanupResponse: MessageTypeDefinition<_quorumkv_v1_CleanupResponse, _quorumkv_v1_CleanupResponse__Output>
      CleanupStatus: MessageTypeDefinition<_quorumkv_v1_CleanupStatus, _quorumkv_v1_CleanupStatus__Output>
      DecommissionRequest: MessageTypeDefinition<_quorumkv_v1_DecommissionRequest, _quorumkv_v1_DecommissionRequest__Output>
      DecommissionResponse: MessageTypeDefinition<_quorumkv_v1_DecommissionResponse, _quorumkv_v1_DecommissionResponse__Output>
      ForgetRequest: MessageTypeDefinition<_quorumkv_v1_ForgetRequest, _quorumkv_v1_ForgetRequest__Output>
      ForgetResponse: MessageTypeDefinition<_quorumkv_v1_ForgetResponse, _quorumkv_v1_ForgetResponse__Output>
      MemberStatus: MessageTypeDefinition<_quorumkv_v1_MemberStatus, _quorumkv_v1_MemberStatus__Output>
      MissingMember: MessageTypeDefinition<_quorumkv_v1_MissingMember, _quorumkv_v1_MissingMember__Output>
      RepairRequest: MessageTypeDefinition<_quorumkv_v1_RepairRequest, _quorumkv_v1_RepairRequest__Output>
      RepairResponse: MessageTypeDefinition<_quorumkv_v1_RepairResponse, _quorumkv_v1_RepairResponse__Output>
      RestoreProgress: MessageTypeDefinition<_quorumkv_v1_RestoreProgress, _quorumkv_v1_RestoreProgress__Output>
      RestoreRequest: MessageTypeDefinition<_quorumkv_v1_RestoreRequest, _quorumkv_v1_RestoreRequest__Output>
      RingOwner: MessageTypeDefinition<_quorumkv_v1_RingOwner, _quorumkv_v1_RingOwner__Output>
      RingRequest: MessageTypeDefinition<_quorumkv_v1_RingRequest, _quorumkv_v1_RingRequest__Output>
      RingResponse: MessageTypeDefinition<_quorumkv_v1_RingResponse, _quorumkv_v1_RingResponse__Output>
      StatusRequest: MessageTypeDefinition<_quorumkv_v1_StatusRequest, _quorumkv_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_quorumkv_v1_StatusResponse, _quorumkv_v1_StatusResponse__Output>
      StreamProgress: MessageTypeDefinition<_quorumkv_v1_StreamProgress, _quorumkv_v1_StreamProgress__Output>
    }
  }
}

