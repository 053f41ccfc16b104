// Original file: proto/quorumkv/v1/replica.proto

import type { Long } from '@grpc/proto-loader';

export interface ForgottenMember {
  'nodeId'?: (string);
  'version'?: (number | string | Long);
  'signerCertificate'?: (Buffer | Uint8Array | string);
  'signature'?: (Buffer | Uint8Array | string);
}

export interface ForgottenMember__Output {
  'nodeId': (string);
  'version': (string);
  'signerCertificate': (Buffer);
  'signature': (Buffer);
}
