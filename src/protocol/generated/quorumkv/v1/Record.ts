// Original file: proto/quorumkv/v1/replica.proto

import type { Version as _quorumkv_v1_Version, Version__Output as _quorumkv_v1_Version__Output } from '../../quorumkv/v1/Version.js';
import type { Long } from '@grpc/proto-loader';

export interface Record {
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  'tombstone'?: (boolean);
  'version'?: (_quorumkv_v1_Version | null);
  'expiresAtMs'?: (number | string | Long);
}

export interface Record__Output {
  'key': (Buffer);
  'value': (Buffer);
  'tombstone': (boolean);
  'version': (_quorumkv_v1_Version__Output | null);
  'expiresAtMs': (string);
}
