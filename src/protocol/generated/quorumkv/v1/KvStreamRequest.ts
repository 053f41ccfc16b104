// Original file: proto/quorumkv/v1/kv.proto

import type { PutRequest as _quorumkv_v1_PutRequest, PutRequest__Output as _quorumkv_v1_PutRequest__Output } from '../../quorumkv/v1/PutRequest.js';
import type { GetRequest as _quorumkv_v1_GetRequest, GetRequest__Output as _quorumkv_v1_GetRequest__Output } from '../../quorumkv/v1/GetRequest.js';
import type { DeleteRequest as _quorumkv_v1_DeleteRequest, DeleteRequest__Output as _quorumkv_v1_DeleteRequest__Output } from '../../quorumkv/v1/DeleteRequest.js';
import type { BatchPutRequest as _quorumkv_v1_BatchPutRequest, BatchPutRequest__Output as _quorumkv_v1_BatchPutRequest__Output } from '../../quorumkv/v1/BatchPutRequest.js';
import type { BatchGetRequest as _quorumkv_v1_BatchGetRequest, BatchGetRequest__Output as _quorumkv_v1_BatchGetRequest__Output } from '../../quorumkv/v1/BatchGetRequest.js';

export interface KvStreamRequest {
  'id'?: (number);
  'timeoutMs'?: (number);
  'put'?: (_quorumkv_v1_PutRequest | null);
  'get'?: (_quorumkv_v1_GetRequest | null);
  'delete'?: (_quorumkv_v1_DeleteRequest | null);
  'batchPut'?: (_quorumkv_v1_BatchPutRequest | null);
  'batchGet'?: (_quorumkv_v1_BatchGetRequest | null);
  'body'?: "put"|"get"|"delete"|"batchPut"|"batchGet";
}

export interface KvStreamRequest__Output {
  'id': (number);
  'timeoutMs': (number);
  'put'?: (_quorumkv_v1_PutRequest__Output | null);
  'get'?: (_quorumkv_v1_GetRequest__Output | null);
  'delete'?: (_quorumkv_v1_DeleteRequest__Output | null);
  'batchPut'?: (_quorumkv_v1_BatchPutRequest__Output | null);
  'batchGet'?: (_quorumkv_v1_BatchGetRequest__Output | null);
  'body'?: "put"|"get"|"delete"|"batchPut"|"batchGet";
}
