// Original file: proto/quorumkv/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BackupProgress as _quorumkv_v1_BackupProgress, BackupProgress__Output as _quorumkv_v1_BackupProgress__Output } from '../../quorumkv/v1/BackupProgress.js';
import type { BackupRequest as _quorumkv_v1_BackupRequest, BackupRequest__Output as _quorumkv_v1_BackupRequest__Output } from '../../quorumkv/v1/BackupRequest.js';
import type { CleanupRequest as _quorumkv_v1_CleanupRequest, CleanupRequest__Output as _quorumkv_v1_CleanupRequest__Output } from '../../quorumkv/v1/CleanupRequest.js';
import type { CleanupResponse as _quorumkv_v1_CleanupResponse, CleanupResponse__Output as _quorumkv_v1_CleanupResponse__Output } from '../../quorumkv/v1/CleanupResponse.js';
import type { DecommissionRequest as _quorumkv_v1_DecommissionRequest, DecommissionRequest__Output as _quorumkv_v1_DecommissionRequest__Output } from '../../quorumkv/v1/DecommissionRequest.js';
import type { DecommissionResponse as _quorumkv_v1_DecommissionResponse, DecommissionResponse__Output as _quorumkv_v1_DecommissionResponse__Output } from '../../quorumkv/v1/DecommissionResponse.js';
import type { ForgetRequest as _quorumkv_v1_ForgetRequest, ForgetRequest__Output as _quorumkv_v1_ForgetRequest__Output } from '../../quorumkv/v1/ForgetRequest.js';
import type { ForgetResponse as _quorumkv_v1_ForgetResponse, ForgetResponse__Output as _quorumkv_v1_ForgetResponse__Output } from '../../quorumkv/v1/ForgetResponse.js';
import type { RepairRequest as _quorumkv_v1_RepairRequest, RepairRequest__Output as _quorumkv_v1_RepairRequest__Output } from '../../quorumkv/v1/RepairRequest.js';
import type { RepairResponse as _quorumkv_v1_RepairResponse, RepairResponse__Output as _quorumkv_v1_RepairResponse__Output } from '../../quorumkv/v1/RepairResponse.js';
import type { RestoreProgress as _quorumkv_v1_RestoreProgress, RestoreProgress__Output as _quorumkv_v1_RestoreProgress__Output } from '../../quorumkv/v1/RestoreProgress.js';
import type { RestoreRequest as _quorumkv_v1_RestoreRequest, RestoreRequest__Output as _quorumkv_v1_RestoreRequest__Output } from '../../quorumkv/v1/RestoreRequest.js';
import type { RingRequest as _quorumkv_v1_RingRequest, RingRequest__Output as _quorumkv_v1_RingRequest__Output } from '../../quorumkv/v1/RingRequest.js';
import type { RingResponse as _quorumkv_v1_RingResponse, RingResponse__Output as _quorumkv_v1_RingResponse__Output } from '../../quorumkv/v1/RingResponse.js';
import type { StatusRequest as _quorumkv_v1_StatusRequest, StatusRequest__Output as _quorumkv_v1_StatusRequest__Output } from '../../quorumkv/v1/StatusRequest.js';
import type { StatusResponse as _quorumkv_v1_StatusResponse, StatusResponse__Output as _quorumkv_v1_StatusResponse__Output } from '../../quorumkv/v1/StatusResponse.js';

export interface AdminClient extends grpc.Client {
  Backup(argument: _quorumkv_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_BackupProgress__Output>;
  Backup(argument: _quorumkv_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_BackupProgress__Output>;
  backup(argument: _quorumkv_v1_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_BackupProgress__Output>;
  backup(argument: _quorumkv_v1_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_BackupProgress__Output>;
  
  Cleanup(argument: _quorumkv_v1_CleanupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  Cleanup(argument: _quorumkv_v1_CleanupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  Cleanup(argument: _quorumkv_v1_CleanupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  Cleanup(argument: _quorumkv_v1_CleanupRequest, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  cleanup(argument: _quorumkv_v1_CleanupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  cleanup(argument: _quorumkv_v1_CleanupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  cleanup(argument: _quorumkv_v1_CleanupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  cleanup(argument: _quorumkv_v1_CleanupRequest, callback: grpc.requestCallback<_quorumkv_v1_CleanupResponse__Output>): grpc.ClientUnaryCall;
  
  Decommission(argument: _quorumkv_v1_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _quorumkv_v1_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _quorumkv_v1_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  Decommission(argument: _quorumkv_v1_DecommissionRequest, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _quorumkv_v1_DecommissionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _quorumkv_v1_DecommissionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _quorumkv_v1_DecommissionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  decommission(argument: _quorumkv_v1_DecommissionRequest, callback: grpc.requestCallback<_quorumkv_v1_DecommissionResponse__Output>): grpc.ClientUnaryCall;
  
  Forget(argument: _quorumkv_v1_ForgetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  Forget(argument: _quorumkv_v1_ForgetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  Forget(argument: _quorumkv_v1_ForgetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  Forget(argument: _quorumkv_v1_ForgetRequest, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  forget(argument: _quorumkv_v1_ForgetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  forget(argument: _quorumkv_v1_ForgetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  forget(argument: _quorumkv_v1_ForgetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  forget(argument: _quorumkv_v1_ForgetRequest, callback: grpc.requestCallback<_quorumkv_v1_ForgetResponse__Output>): grpc.ClientUnaryCall;
  
  Repair(argument: _quorumkv_v1_RepairRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  Repair(argument: _quorumkv_v1_RepairRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  Repair(argument: _quorumkv_v1_RepairRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  Repair(argument: _quorumkv_v1_RepairRequest, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  repair(argument: _quorumkv_v1_RepairRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  repair(argument: _quorumkv_v1_RepairRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  repair(argument: _quorumkv_v1_RepairRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  repair(argument: _quorumkv_v1_RepairRequest, callback: grpc.requestCallback<_quorumkv_v1_RepairResponse__Output>): grpc.ClientUnaryCall;
  
  Restore(argument: _quorumkv_v1_RestoreRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_RestoreProgress__Output>;
  Restore(argument: _quorumkv_v1_RestoreRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_RestoreProgress__Output>;
  restore(argument: _quorumkv_v1_RestoreRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_RestoreProgress__Output>;
  restore(argument: _quorumkv_v1_RestoreRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quorumkv_v1_RestoreProgress__Output>;
  
  Ring(argument: _quorumkv_v1_RingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  Ring(argument: _quorumkv_v1_RingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  Ring(argument: _quorumkv_v1_RingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  Ring(argument: _quorumkv_v1_RingRequest, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  ring(argument: _quorumkv_v1_RingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  ring(argument: _quorumkv_v1_RingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  ring(argument: _quorumkv_v1_RingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  ring(argument: _quorumkv_v1_RingRequest, callback: grpc.requestCallback<_quorumkv_v1_RingResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _quorumkv_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _quorumkv_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _quorumkv_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _quorumkv_v1_StatusRequest, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _quorumkv_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _quorumkv_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _quorumkv_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _quorumkv_v1_StatusRequest, callback: grpc.requestCallback<_quorumkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  Backup: grpc.handleServerStreamingCall<_quorumkv_v1_BackupRequest__Output, _quorumkv_v1_BackupProgress>;
  
  Cleanup: grpc.handleUnaryCall<_quorumkv_v1_CleanupRequest__Output, _quorumkv_v1_CleanupResponse>;
  
  Decommission: grpc.handleUnaryCall<_quorumkv_v1_DecommissionRequest__Output, _quorumkv_v1_DecommissionResponse>;
  
  Forget: grpc.handleUnaryCall<_quorumkv_v1_ForgetRequest__Output, _quorumkv_v1_ForgetResponse>;
  
  Repair: grpc.handleUnaryCall<_quorumkv_v1_RepairRequest__Output, _quorumkv_v1_RepairResponse>;
  
  Restore: grpc.handleServerStreamingCall<_quorumkv_v1_RestoreRequest__Output, _quorumkv_v1_RestoreProgress>;
  
  Ring: grpc.handleUnaryCall<_quorumkv_v1_RingRequest__Output, _quorumkv_v1_RingResponse>;
  
  Status: grpc.handleUnaryCall<_quorumkv_v1_StatusRequest__Output, _quorumkv_v1_StatusResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  Backup: MethodDefinition<_quorumkv_v1_BackupRequest, _quorumkv_v1_BackupProgress, _quorumkv_v1_BackupRequest__Output, _quorumkv_v1_BackupProgress__Output>
  Cleanup: MethodDefinition<_quorumkv_v1_CleanupRequest, _quorumkv_v1_CleanupResponse, _quorumkv_v1_CleanupRequest__Output, _quorumkv_v1_CleanupResponse__Output>
  Decommission: MethodDefinition<_quorumkv_v1_DecommissionRequest, _quorumkv_v1_DecommissionResponse, _quorumkv_v1_DecommissionRequest__Output, _quorumkv_v1_DecommissionResponse__Output>
  Forget: MethodDefinition<_quorumkv_v1_ForgetRequest, _quorumkv_v1_ForgetResponse, _quorumkv_v1_ForgetRequest__Output, _quorumkv_v1_ForgetResponse__Output>
  Repair: MethodDefinition<_quorumkv_v1_RepairRequest, _quorumkv_v1_RepairResponse, _quorumkv_v1_RepairRequest__Output, _quorumkv_v1_RepairResponse__Output>
  Restore: MethodDefinition<_quorumkv_v1_RestoreRequest, _quorumkv_v1_RestoreProgress, _quorumkv_v1_RestoreRequest__Output, _quorumkv_v1_RestoreProgress__Output>
  Ring: MethodDefinition<_quorumkv_v1_RingRequest, _quorumkv_v1_RingResponse, _quorumkv_v1_RingRequest__Output, _quorumkv_v1_RingResponse__Output>
  Status: MethodDefinition<_quorumkv_v1_StatusRequest, _quorumkv_v1_StatusResponse, _quorumkv_v1_StatusRequest__Output, _quorumkv_v1_StatusResponse__Output>
}
