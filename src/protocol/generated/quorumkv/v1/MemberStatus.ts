// Original file: proto/quorumkv/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberStatus {
  'id'?: (string);
  'address'?: (string);
  'zone'?: (string);
  'ready'?: (boolean);
  'self'?: (boolean);
  'liveness'?: (string);
  'hintBytes'?: (number | string | Long);
  'ringState'?: (string);
  'retained'?: (boolean);
}

export interface MemberStatus__Output {
  'id': (string);
  'address': (string);
  'zone': (string);
  'ready': (boolean);
  'self': (boolean);
  'liveness': (string);
  'hintBytes': (string);
  'ringState': (string);
  'retained': (boolean);
}
