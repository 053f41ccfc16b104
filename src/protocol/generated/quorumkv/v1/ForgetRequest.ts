// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ForgetRequest {
  'member'?: (string);
  'version'?: (number | string | Long);
  'signerCertificate'?: (Buffer | Uint8Array | string);
  'signature'?: (Buffer | Uint8Array | string);
}

export interface ForgetRequest__Output {
  'member': (string);
  'version': (string);
  'signerCertificate': (Buffer);
  'signature': (Buffer);
}
