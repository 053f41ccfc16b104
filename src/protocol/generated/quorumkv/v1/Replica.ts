// Original file: proto/quorumkv/v1/replica.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyRequest as _quorumkv_v1_ApplyRequest, ApplyRequest__Output as _quorumkv_v1_ApplyRequest__Output } from '../../quorumkv/v1/ApplyRequest.js';
import type { ApplyResponse as _quorumkv_v1_ApplyResponse, ApplyResponse__Output as _quorumkv_v1_ApplyResponse__Output } from '../../quorumkv/v1/ApplyResponse.js';
import type { ExchangeReply as _quorumkv_v1_ExchangeReply, ExchangeReply__Output as _quorumkv_v1_ExchangeReply__Output } from '../../quorumkv/v1/ExchangeReply.js';
import type { ExchangeRequest as _quorumkv_v1_ExchangeRequest, ExchangeRequest__Output as _quorumkv_v1_ExchangeRequest__Output } from '../../quorumkv/v1/ExchangeRequest.js';
import type { MerkleTreeRequest as _quorumkv_v1_MerkleTreeRequest, MerkleTreeRequest__Output as _quorumkv_v1_MerkleTreeRequest__Output } from '../../quorumkv/v1/MerkleTreeRequest.js';
import type { MerkleTreeResponse as _quorumkv_v1_MerkleTreeResponse, MerkleTreeResponse__Output as _quorumkv_v1_MerkleTreeResponse__Output } from '../../quorumkv/v1/MerkleTreeResponse.js';
import type { ProbeRequest as _quorumkv_v1_ProbeRequest, ProbeRequest__Output as _quorumkv_v1_ProbeRequest__Output } from '../../quorumkv/v1/ProbeRequest.js';
import type { ProbeResponse as _quorumkv_v1_ProbeResponse, ProbeResponse__Output as _quorumkv_v1_ProbeResponse__Output } from '../../quorumkv/v1/ProbeResponse.js';
import type { ReadRequest as _quorumkv_v1_ReadRequest, ReadRequest__Output as _quorumkv_v1_ReadRequest__Output } from '../../quorumkv/v1/ReadRequest.js';
import type { ReadResponse as _quorumkv_v1_ReadResponse, ReadResponse__Output as _quorumkv_v1_ReadResponse__Output } from '../../quorumkv/v1/ReadResponse.js';
import type { ScanRequest as _quorumkv_v1_ScanRequest, ScanRequest__Output as _quorumkv_v1_ScanRequest__Output } from '../../quorumkv/v1/ScanRequest.js';
import type { ScanResponse as _quorumkv_v1_ScanResponse, ScanResponse__Output as _quorumkv_v1_ScanResponse__Output } from '../../quorumkv/v1/ScanResponse.js';

export interface ReplicaClient extends grpc.Client {
  Apply(argument: _quorumkv_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _quorumkv_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _quorumkv_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _quorumkv_v1_ApplyRequest, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _quorumkv_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _quorumkv_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _quorumkv_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _quorumkv_v1_ApplyRequest, callback: grpc.requestCallback<_quorumkv_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  
  Exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeReply__Output>;
  Exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeReply__Output>;
  exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeReply__Output>;
  exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeReply__Output>;
  
  MerkleTree(argument: _quorumkv_v1_MerkleTreeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  MerkleTree(argument: _quorumkv_v1_MerkleTreeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  MerkleTree(argument: _quorumkv_v1_MerkleTreeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  MerkleTree(argument: _quorumkv_v1_MerkleTreeRequest, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  merkleTree(argument: _quorumkv_v1_MerkleTreeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  merkleTree(argument: _quorumkv_v1_MerkleTreeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  merkleTree(argument: _quorumkv_v1_MerkleTreeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  merkleTree(argument: _quorumkv_v1_MerkleTreeRequest, callback: grpc.requestCallback<_quorumkv_v1_MerkleTreeResponse__Output>): grpc.ClientUnaryCall;
  
  Probe(argument: _quorumkv_v1_ProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  Probe(argument: _quorumkv_v1_ProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  Probe(argument: _quorumkv_v1_ProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  Probe(argument: _quorumkv_v1_ProbeRequest, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  probe(argument: _quorumkv_v1_ProbeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  probe(argument: _quorumkv_v1_ProbeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  probe(argument: _quorumkv_v1_ProbeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  probe(argument: _quorumkv_v1_ProbeRequest, callback: grpc.requestCallback<_quorumkv_v1_ProbeResponse__Output>): grpc.ClientUnaryCall;
  
  Read(argument: _quorumkv_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _quorumkv_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _quorumkv_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _quorumkv_v1_ReadRequest, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _quorumkv_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _quorumkv_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _quorumkv_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _quorumkv_v1_ReadRequest, callback: grpc.requestCallback<_quorumkv_v1_ReadResponse__Output>): grpc.ClientUnaryCall;
  
  Scan(argument: _quorumkv_v1_ScanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _quorumkv_v1_ScanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _quorumkv_v1_ScanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  Scan(argument: _quorumkv_v1_ScanRequest, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _quorumkv_v1_ScanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _quorumkv_v1_ScanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _quorumkv_v1_ScanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  scan(argument: _quorumkv_v1_ScanRequest, callback: grpc.requestCallback<_quorumkv_v1_ScanResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ReplicaHandlers extends grpc.UntypedServiceImplementation {
  Apply: grpc.handleUnaryCall<_quorumkv_v1_ApplyRequest__Output, _quorumkv_v1_ApplyResponse>;
  
  Exchange: grpc.handleBidiStreamingCall<_quorumkv_v1_ExchangeRequest__Output, _quorumkv_v1_ExchangeReply>;
  
  MerkleTree: grpc.handleUnaryCall<_quorumkv_v1_MerkleTreeRequest__Output, _quorumkv_v1_MerkleTreeResponse>;
  
  Probe: grpc.handleUnaryCall<_quorumkv_v1_ProbeRequest__Output, _quorumkv_v1_ProbeResponse>;
  
  Read: grpc.handleUnaryCall<_quorumkv_v1_ReadRequest__Output, _quorumkv_v1_ReadResponse>;
  
  Scan: grpc.handleUnaryCall<_quorumkv_v1_ScanRequest__Output, _quorumkv_v1_ScanResponse>;
  
}

export interface ReplicaDefinition extends grpc.ServiceDefinition {
  Apply: MethodDefinition<_quorumkv_v1_ApplyRequest, _quorumkv_v1_ApplyResponse, _quorumkv_v1_ApplyRequest__Output, _quorumkv_v1_ApplyResponse__Output>
  Exchange: MethodDefinition<_quorumkv_v1_ExchangeRequest, _quorumkv_v1_ExchangeReply, _quorumkv_v1_ExchangeRequest__Output, _quorumkv_v1_ExchangeReply__Output>
  MerkleTree: MethodDefinition<_quorumkv_v1_MerkleTreeRequest, _quorumkv_v1_MerkleTreeResponse, _quorumkv_v1_MerkleTreeRequest__Output, _quorumkv_v1_MerkleTreeResponse__Output>
  Probe: MethodDefinition<_quorumkv_v1_ProbeRequest, _quorumkv_v1_ProbeResponse, _quorumkv_v1_ProbeRequest__Output, _quorumkv_v1_ProbeResponse__Output>
  Read: MethodDefinition<_quorumkv_v1_ReadRequest, _quorumkv_v1_ReadResponse, _quorumkv_v1_ReadRequest__Output, _quorumkv_v1_ReadResponse__Output>
  Scan: MethodDefinition<_quorumkv_v1_ScanRequest, _quorumkv_v1_ScanResponse, _quorumkv_v1_ScanRequest__Output, _quorumkv_v1_ScanResponse__Output>
}
