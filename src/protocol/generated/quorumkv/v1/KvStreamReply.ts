// Original file: proto/quorumkv/v1/kv.proto

import type { PutResponse as _quorumkv_v1_PutResponse, PutResponse__Output as _quorumkv_v1_PutResponse__Output } from '../../quorumkv/v1/PutResponse.js';
import type { GetResponse as _quorumkv_v1_GetResponse, GetResponse__Output as _quorumkv_v1_GetResponse__Output } from '../../quorumkv/v1/GetResponse.js';
import type { DeleteResponse as _quorumkv_v1_DeleteResponse, DeleteResponse__Output as _quorumkv_v1_DeleteResponse__Output } from '../../quorumkv/v1/DeleteResponse.js';
import type { BatchPutResponse as _quorumkv_v1_BatchPutResponse, BatchPutResponse__Output as _quorumkv_v1_BatchPutResponse__Output } from '../../quorumkv/v1/BatchPutResponse.js';
import type { BatchGetResponse as _quorumkv_v1_BatchGetResponse, BatchGetResponse__Output as _quorumkv_v1_BatchGetResponse__Output } from '../../quorumkv/v1/BatchGetResponse.js';
import type { ItemError as _quorumkv_v1_ItemError, ItemError__Output as _quorumkv_v1_ItemError__Output } from '../../quorumkv/v1/ItemError.js';

export interface KvStreamReply {
  'id'?: (number);
  'put'?: (_quorumkv_v1_PutResponse | null);
  'get'?: (_quorumkv_v1_GetResponse | null);
  'delete'?: (_quorumkv_v1_DeleteResponse | null);
  'batchPut'?: (_quorumkv_v1_BatchPutResponse | null);
  'batchGet'?: (_quorumkv_v1_BatchGetResponse | null);
  'error'?: (_quorumkv_v1_ItemError | null);
  'body'?: "put"|"get"|"delete"|"batchPut"|"batchGet"|"error";
}

export interface KvStreamReply__Output {
  'id': (number);
  'put'?: (_quorumkv_v1_PutResponse__Output | null);
  'get'?: (_quorumkv_v1_GetResponse__Output | null);
  'delete'?: (_quorumkv_v1_DeleteResponse__Output | null);
  'batchPut'?: (_quorumkv_v1_BatchPutResponse__Output | null);
  'batchGet'?: (_quorumkv_v1_BatchGetResponse__Output | null);
  'error'?: (_quorumkv_v1_ItemError__Output | null);
  'body'?: "put"|"get"|"delete"|"batchPut"|"batchGet"|"error";
}
