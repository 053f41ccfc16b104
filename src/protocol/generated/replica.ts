import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyRequest as _quorumkv_v1_ApplyRequest, ApplyRequest__Output as _quorumkv_v1_ApplyRequest__Output } from './quorumkv/v1/ApplyRequest.js';
import type { ApplyResponse as _quorumkv_v1_ApplyResponse, ApplyResponse__Output as _quorumkv_v1_ApplyResponse__Output } from './quorumkv/v1/ApplyResponse.js';
import type { ExchangeError as _quorumkv_v1_ExchangeError, ExchangeError__Output as _quorumkv_v1_ExchangeError__Output } from './quorumkv/v1/ExchangeError.js';
import type { ExchangeReply as _quorumkv_v1_ExchangeReply, ExchangeReply__Output as _quorumkv_v1_ExchangeReply__Output } from './quorumkv/v1/ExchangeReply.js';
import type { ExchangeRequest as _quorumkv_v1_ExchangeRequest, ExchangeRequest__Output as _quorumkv_v1_ExchangeRequest__Output } from './quorumkv/v1/ExchangeRequest.js';
import type { ForgottenMember as _quorumkv_v1_ForgottenMember, ForgottenMember__Output as _quorumkv_v1_ForgottenMember__Output } from './quorumkv/v1/ForgottenMember.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from './quorumkv/v1/ItemError.js';
import type { MerkleTreeRequest as _quorumkv_v1_MerkleTreeRequest, MerkleTreeRequest__Output as _quorumkv_v1_MerkleTreeRequest__Output } from './quorumkv/v1/MerkleTreeRequest.js';
import type { MerkleTreeResponse as _quorumkv_v1_MerkleTreeResponse, MerkleTreeResponse__Output as _quorumkv_v1_MerkleTreeResponse__Output } from './quorumkv/v1/MerkleTreeResponse.js';
import type { ProbeRequest as _quorumkv_v1_ProbeRequest, ProbeRequest__Output as _quorumkv_v1_ProbeRequest__Output } from './quorumkv/v1/ProbeRequest.js';
import type { ProbeResponse as _quorumkv_v1_ProbeResponse, ProbeResponse__Output as _quorumkv_v1_ProbeResponse__Output } from './quorumkv/v1/ProbeResponse.js';
import type { ReadRequest as _quorumkv_v1_ReadRequest, ReadRequest__Output as _quorumkv_v1_ReadRequest__Output } from './quorumkv/v1/ReadRequest.js';
import type { ReadResponse as _quorumkv_v1_ReadResponse, ReadResponse__Output as _quorumkv_v1_ReadResponse__Output } from './quorumkv/v1/ReadResponse.js';
import type { Record as _quorumkv_v1_Record, Record__Output as _quorumkv_v1_Record__Output } from './quorumkv/v1/Record.js';
import type { ReplicaClient as _quorumkv_v1_ReplicaClient, ReplicaDefinition as _quorumkv_v1_ReplicaDefinition } from './quorumkv/v1/Replica.js';
import type { ScanCursor as _quorumkv_v1_ScanCursor, ScanCursor__Output as _quorumkv_v1_ScanCursor__Output } from './quorumkv/v1/ScanCursor.js';
import type { ScanRequest as _quorumkv_v1_ScanRequest, ScanRequest__Output as _quorumkv_v1_ScanRequest__Output } from './quorumkv/v1/ScanRequest.js';
import type { ScanResponse as _quorumkv_v1_ScanResponse, ScanResponse__Output as _quorumkv_v1_ScanResponse__Output } from './quorumkv/v1/ScanResponse.js';
import type { TokenRange as _quorumkv_v1_TokenRange, TokenRange__Output as _quorumkv_v1_TokenRange__Output } from './quorumkv/v1/TokenRange.js';
import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from './quorumkv/v1/Version.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorumkv: {
    v1: {
      ApplyRequest: MessageTypeDefinition<_quorumkv_v1_ApplyRequest, _quorumkv_v1_ApplyRequest__Output>
      ApplyResponse: MessageTypeDefinition<_quorumkv_v1_ApplyResponse, _quorumkv_v1_ApplyResponse__Output>
      ExchangeError: MessageTypeDefinition<_quorumkv_v1_ExchangeError, _quorumkv_v1_ExchangeError__Output>
      ExchangeReply: MessageTypeDefinition<_quorumkv_v1_ExchangeReply, _quorumkv_v1_ExchangeReply__Output>
      ExchangeRequest: MessageTypeDefinition<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeRequest__Output>
      ForgottenMember: MessageTypeDefinition<_quorumkv_v1_ForgottenMember, _quorumkv_v1_ForgottenMember__Output>
      ItemError: MessageTypeDefinition<_quorumkv_v1_ItemError, _quorumkv_v1_ItemError__Output>
      MerkleTreeRequest: MessageTypeDefinition<_quorumkv_v1_MerkleTreeRequest, _quorumkv_v1_MerkleTreeRequest__Output>
      MerkleTreeResponse: MessageTypeDefinition<_quorumkv_v1_MerkleTreeResponse, _quorumkv_v1_MerkleTreeResponse__Output>
      ProbeRequest: MessageTypeDefinition<_quorumkv_v1_ProbeRequest, _quorumkv_v1_ProbeRequest__Output>
      ProbeResponse: MessageTypeDefinition<_quorumkv_v1_ProbeResponse, _quorumkv_v1_ProbeResponse__Output>
      ReadRequest: MessageTypeDefinition<_quorumkv_v1_ReadRequest, _quorumkv_v1_ReadRequest__Output>
      ReadResponse: MessageTypeDefinition<_quorumkv_v1_ReadResponse, _quorumkv_v1_ReadResponse__Output>
      Record: MessageTypeDefinition<_quorumkv_v1_Record, _quorumkv_v1_Record__Output>
      Replica: SubtypeConstructor<typeof grpc.Client, _quorumkv_v1_ReplicaClient> & { service: _quorumkv_v1_ReplicaDefinition }
      ScanCursor: MessageTypeDefinition<_quorumkv_v1_ScanCursor, _quorumkv_v1_ScanCursor__Output>
      ScanRequest: MessageTypeDefinition<_quorumkv_v1_ScanRequest, _quorumkv_v1_ScanRequest__Output>
      ScanResponse: MessageTypeDefinition<_quorumkv_v1_ScanResponse, _quorumkv_v1_ScanResponse__Output>
      TokenRange: MessageTypeDefinition<_quorumkv_v1_TokenRange, _quorumkv_v1_TokenRange__Output>
      Version: MessageTypeDefinition<_quorumkv_v1_Version, _quorumkv_v1_Version__Output>
    }
  }
}

