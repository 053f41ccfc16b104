import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchGetRequest as _quorumkv_v1_BatchGetRequest, BatchGetRequest__Output as _quorumkv_v1_BatchGetRequest__Output } from './quorumkv/v1/BatchGetRequest.js';
import type { BatchGetResponse as _quorumkv_v1_BatchGetResponse, BatchGetResponse__Output as _quorumkv_v1_BatchGetResponse__Output } from './quorumkv/v1/BatchGetResponse.js';
import type { BatchPutRequest as _quorumkv_v1_BatchPutRequest, BatchPutRequest__Output as _quorumkv_v1_BatchPutRequest__Output } from './quorumkv/v1/BatchPutRequest.js';
import type { BatchPutResponse as _quorumkv_v1_BatchPutResponse, BatchPutResponse__Output as _quorumkv_v1_BatchPutResponse__Output } from './quorumkv/v1/BatchPutResponse.js';
import type { DeleteRequest as _quorumkv_v1_DeleteRequest, DeleteRequest__Output as _quorumkv_v1_DeleteRequest__Output } from './quorumkv/v1/DeleteRequest.js';
import type { DeleteResponse as _quorumkv_v1_DeleteResponse, DeleteResponse__Output as _quorumkv_v1_DeleteResponse__Output } from './quorumkv/v1/DeleteResponse.js';
import type { GetRequest as _quorumkv_v1_GetRequest, GetRequest__Output as _quorumkv_v1_GetRequest__Output } from './quorumkv/v1/GetRequest.js';
import type { GetResponse as _quorumkv_v1_GetResponse, GetResponse__Output as _quorumkv_v1_GetResponse__Output } from './quorumkv/v1/GetResponse.js';
import type { GetResult as _quorumkv_v1_GetResult, GetResult__Output as _quorumkv_v1_GetResult__Output } from './quorumkv/v1/GetResult.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from './quorumkv/v1/ItemError.js';
import type { KVClient as _quorumkv_v1_KVClient, KVDefinition as _quorumkv_v1_KVDefinition } from './quorumkv/v1/KV.js';
import type { KvStreamReply as _quorumkv_v1_KvStreamReply, KvStreamReply__Output as _quorumkv_v1_KvStreamReply__Output } from './quorumkv/v1/KvStreamReply.js';
import type { KvStreamRequest as _quorumkv_v1_KvStreamRequest, KvStreamRequest__Output as _quorumkv_v1_KvStreamRequest__Output } from './quorumkv/v1/KvStreamRequest.js';
import type { PutItem as _quorumkv_v1_PutItem, PutItem__Output as _quorumkv_v1_PutItem__Output } from './quorumkv/v1/PutItem.js';
import type { PutRequest as _quorumkv_v1_PutRequest, PutRequest__Output as _quorumkv_v1_PutRequest__Output } from './quorumkv/v1/PutRequest.js';
import type { PutResponse as _quorumkv_v1_PutResponse, PutResponse__Output as _quorumkv_v1_PutResponse__Output } from './quorumkv/v1/PutResponse.js';
import type { PutResult as _quorumkv_v1_PutResult, PutResult__Output as _quorumkv_v1_PutResult__Output } from './quorumkv/v1/PutResult.js';
import type { ReplicaAnswer as _quorumkv_v1_ReplicaAnswer, ReplicaAnswer__Output as _quorumkv_v1_ReplicaAnswer__Output } from './quorumkv/v1/ReplicaAnswer.js';
import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from './quorumkv/v1/Version.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorumkv: {
    v1: {
      BatchGetRequest: MessageTypeDefinition<_quorumkv_v1_BatchGetRequest, _quorumkv_v1_BatchGetRequest__Output>
      BatchGetResponse: MessageTypeDefinition<_quorumkv_v1_BatchGetResponse, _quorumkv_v1_BatchGetResponse__Output>
      BatchPutRequest: MessageTypeDefinition<_quorumkv_v1_BatchPutRequest, _quorumkv_v1_BatchPutRequest__Output>
      BatchPutResponse: MessageTypeDefinition<_quorumkv_v1_BatchPutResponse, _quorumkv_v1_BatchPutResponse__Output>
      DeleteRequest: MessageTypeDefinition<_quorumkv_v1_DeleteRequest, _quorumkv_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_quorumkv_v1_DeleteResponse, _quorumkv_v1_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_quorumkv_v1_GetRequest, _quorumkv_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_quorumkv_v1_GetResponse, _quorumkv_v1_GetResponse__Output>
      GetResult: MessageTypeDefinition<_quorumkv_v1_GetResult, _quorumkv_v1_GetResult__Output>
      ItemError: MessageTypeDefinition<_quorumkv_v1_ItemError, _quorumkv_v1_ItemError__Output>
      KV: SubtypeConstructor<typeof grpc.Client, _quorumkv_v1_KVClient> & { service: _quorumkv_v1_KVDefinition }
      KvStreamReply: MessageTypeDefinition<_quorumkv_v1_KvStreamReply, _quorumkv_v1_KvStreamReply__Output>
      KvStreamRequest: MessageTypeDefinition<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamRequest__Output>
      PutItem: MessageTypeDefinition<_quorumkv_v1_PutItem, _quorumkv_v1_PutItem__Output>
      PutRequest: MessageTypeDefinition<_quorumkv_v1_PutRequest, _quorumkv_v1_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_quorumkv_v1_PutResponse, _quorumkv_v1_PutResponse__Output>
      PutResult: MessageTypeDefinition<_quorumkv_v1_PutResult, _quorumkv_v1_PutResult__Output>
      ReplicaAnswer: MessageTypeDefinition<_quorumkv_v1_ReplicaAnswer, _quorumkv_v1_ReplicaAnswer__Output>
      Version: MessageTypeDefinition<_quorumkv_v1_Version, _quorumkv_v1_Version__Output>
    }
  }
}

