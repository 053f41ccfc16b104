import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyRequest as _quorumkv_v1_ApplyRequest, ApplyRequest__Output as _quorumkv_v1_ApplyRequest__Output } from './quorumkv/v1/ApplyRequest.js';
import type { ApplyResponse as _quorumkv_v1_ApplyResponse, ApplyResponse__Output as _quorumkv_v1_ApplyResponse__Output } from './quorumkv/v1/ApplyResponse.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from './quorumkv/v1/ItemError.js';
import type { ReadRequest as _quorumkv_v1_ReadRequest, ReadRequest__Output as _quorumkv_v1_ReadRequest__Output } from './quorumkv/v1/ReadRequest.js';
import type { ReadResponse as _quorumkv_v1_ReadResponse, ReadResponse__Output as _quorumkv_v1_ReadResponse__Output } from './quorumkv/v1/ReadResponse.js';
import type { ReadResult as _quorumkv_v1_ReadResult, ReadResult__Output as _quorumkv_v1_ReadResult__Output } from './quorumkv/v1/ReadResult.js';
import type { Record as _quorumkv_v1_Record, Record__Output as _quorumkv_v1_Record__Output } from './quorumkv/v1/Record.js';
import type { ReplicaClient as _quorumkv_v1_ReplicaClient, ReplicaDefinition as _quorumkv_v1_ReplicaDefinition } from './quorumkv/v1/Replica.js';
import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from './quorumkv/v1/Version.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorumkv: {
    v1: {
      ApplyRequest: MessageTypeDefinition<_quorumkv_v1_ApplyRequest, _quorumkv_v1_ApplyRequest__Output>
      ApplyResponse: MessageTypeDefinition<_quorumkv_v1_ApplyResponse, _quorumkv_v1_ApplyResponse__Output>
      ItemError: MessageTypeDefinition<_quorumkv_v1_ItemError, _quorumkv_v1_ItemError__Output>
      ReadRequest: MessageTypeDefinition<_quorumkv_v1_ReadRequest, _quorumkv_v1_ReadRequest__Output>
      ReadResponse: MessageTypeDefinition<_quorumkv_v1_ReadResponse, _quorumkv_v1_ReadResponse__Output>
      ReadResult: MessageTypeDefinition<_quorumkv_v1_ReadResult, _quorumkv_v1_ReadResult__Output>
      Record: MessageTypeDefinition<_quorumkv_v1_Record, _quorumkv_v1_Record__Output>
      Replica: SubtypeConstructor<typeof grpc.Client, _quorumkv_v1_ReplicaClient> & { service: _quorumkv_v1_ReplicaDefinition }
      Version: MessageTypeDefinition<_quorumkv_v1_Version, _quorumkv_v1_Version__Output>
    }
  }
}

