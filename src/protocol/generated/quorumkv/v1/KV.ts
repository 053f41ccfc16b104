// Original file: proto/quorumkv/v1/kv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchGetRequest as _quorumkv_v1_BatchGetRequest, BatchGetRequest__Output as _quorumkv_v1_BatchGetRequest__Output } from '../../quorumkv/v1/BatchGetRequest.js';
import type { BatchGetResponse as _quorumkv_v1_BatchGetResponse, BatchGetResponse__Output as _quorumkv_v1_BatchGetResponse__Output } from '../../quorumkv/v1/BatchGetResponse.js';
import type { BatchPutRequest as _quorumkv_v1_BatchPutRequest, BatchPutRequest__Output as _quorumkv_v1_BatchPutRequest__Output } from '../../quorumkv/v1/BatchPutRequest.js';
import type { BatchPutResponse as _quorumkv_v1_BatchPutResponse, BatchPutResponse__Output as _quorumkv_v1_BatchPutResponse__Output } from '../../quorumkv/v1/BatchPutResponse.js';
import type { DeleteRequest as _quorumkv_v1_DeleteRequest, DeleteRequest__Output as _quorumkv_v1_DeleteRequest__Output } from '../../quorumkv/v1/DeleteRequest.js';
import type { DeleteResponse as _quorumkv_v1_DeleteResponse, DeleteResponse__Output as _quorumkv_v1_DeleteResponse__Output } from '../../quorumkv/v1/DeleteResponse.js';
import type { GetRequest as _quorumkv_v1_GetRequest, GetRequest__Output as _quorumkv_v1_GetRequest__Output } from '../../quorumkv/v1/GetRequest.js';
import type { GetResponse as _quorumkv_v1_GetResponse, GetResponse__Output as _quorumkv_v1_GetResponse__Output } from '../../quorumkv/v1/GetResponse.js';
import type { KvStreamReply as _quorumkv_v1_KvStreamReply, KvStreamReply__Output as _quorumkv_v1_KvStreamReply__Output } from '../../quorumkv/v1/KvStreamReply.js';
import type { KvStreamRequest as _quorumkv_v1_KvStreamRequest, KvStreamRequest__Output as _quorumkv_v1_KvStreamRequest__Output } from '../../quorumkv/v1/KvStreamRequest.js';
import type { PutRequest as _quorumkv_v1_PutRequest, PutRequest__Output as _quorumkv_v1_PutRequest__Output } from '../../quorumkv/v1/PutRequest.js';
import type { PutResponse as _quorumkv_v1_PutResponse, PutResponse__Output as _quorumkv_v1_PutResponse__Output } from '../../quorumkv/v1/PutResponse.js';

export interface KVClient extends grpc.Client {
  BatchGet(argument: _quorumkv_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _quorumkv_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _quorumkv_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _quorumkv_v1_BatchGetRequest, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _quorumkv_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _quorumkv_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _quorumkv_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _quorumkv_v1_BatchGetRequest, callback: grpc.requestCallback<_quorumkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  
  BatchPut(argument: _quorumkv_v1_BatchPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _quorumkv_v1_BatchPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _quorumkv_v1_BatchPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _quorumkv_v1_BatchPutRequest, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _quorumkv_v1_BatchPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _quorumkv_v1_BatchPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _quorumkv_v1_BatchPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _quorumkv_v1_BatchPutRequest, callback: grpc.requestCallback<_quorumkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _quorumkv_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _quorumkv_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _quorumkv_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _quorumkv_v1_DeleteRequest, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _quorumkv_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _quorumkv_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _quorumkv_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _quorumkv_v1_DeleteRequest, callback: grpc.requestCallback<_quorumkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _quorumkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _quorumkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _quorumkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _quorumkv_v1_GetRequest, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _quorumkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _quorumkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _quorumkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _quorumkv_v1_GetRequest, callback: grpc.requestCallback<_quorumkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  Multiplex(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamReply__Output>;
  Multiplex(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamReply__Output>;
  multiplex(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamReply__Output>;
  multiplex(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamReply__Output>;
  
  Put(argument: _quorumkv_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _quorumkv_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _quorumkv_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _quorumkv_v1_PutRequest, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _quorumkv_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _quorumkv_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _quorumkv_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _quorumkv_v1_PutRequest, callback: grpc.requestCallback<_quorumkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface KVHandlers extends grpc.UntypedServiceImplementation {
  BatchGet: grpc.handleUnaryCall<_quorumkv_v1_BatchGetRequest__Output, _quorumkv_v1_BatchGetResponse>;
  
  BatchPut: grpc.handleUnaryCall<_quorumkv_v1_BatchPutRequest__Output, _quorumkv_v1_BatchPutResponse>;
  
  Delete: grpc.handleUnaryCall<_quorumkv_v1_DeleteRequest__Output, _quorumkv_v1_DeleteResponse>;
  
  Get: grpc.handleUnaryCall<_quorumkv_v1_GetRequest__Output, _quorumkv_v1_GetResponse>;
  
  Multiplex: grpc.handleBidiStreamingCall<_quorumkv_v1_KvStreamRequest__Output, _quorumkv_v1_KvStreamReply>;
  
  Put: grpc.handleUnaryCall<_quorumkv_v1_PutRequest__Output, _quorumkv_v1_PutResponse>;
  
}

export interface KVDefinition extends grpc.ServiceDefinition {
  BatchGet: MethodDefinition<_quorumkv_v1_BatchGetRequest, _quorumkv_v1_BatchGetResponse, _quorumkv_v1_BatchGetRequest__Output, _quorumkv_v1_BatchGetResponse__Output>
  BatchPut: MethodDefinition<_quorumkv_v1_BatchPutRequest, _quorumkv_v1_BatchPutResponse, _quorumkv_v1_BatchPutRequest__Output, _quorumkv_v1_BatchPutResponse__Output>
  Delete: MethodDefinition<_quorumkv_v1_DeleteRequest, _quorumkv_v1_DeleteResponse, _quorumkv_v1_DeleteRequest__Output, _quorumkv_v1_DeleteResponse__Output>
  Get: MethodDefinition<_quorumkv_v1_GetRequest, _quorumkv_v1_GetResponse, _quorumkv_v1_GetRequest__Output, _quorumkv_v1_GetResponse__Output>
  Multiplex: MethodDefinition<_quorumkv_v1_KvStreamRequest, _quorumkv_v1_KvStreamReply, _quorumkv_v1_KvStreamRequest__Output, _quorumkv_v1_KvStreamReply__Output>
  Put: MethodDefinition<_quorumkv_v1_PutRequest, _quorumkv_v1_PutResponse, _quorumkv_v1_PutRequest__Output, _quorumkv_v1_PutResponse__Output>
}
