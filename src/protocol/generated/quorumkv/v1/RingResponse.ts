// Original file: proto/quorumkv/v1/admin.proto

import type { RingOwner as _quorumkv_v1_RingOwner, RingOwner__Output as _quorumkv_v1_RingOwner__Output } from '../../quorumkv/v1/RingOwner.js';

export interface RingResponse {
  'digest'?: (string);
  'replicationFactor'?: (number);
  'vnodes'?: (number);
  'owners'?: (_quorumkv_v1_RingOwner)[];
  'keyToken'?: (string);
  'preferenceList'?: (string)[];
}

export interface RingResponse__Output {
  'digest': (string);
  'replicationFactor': (number);
  'vnodes': (number);
  'owners': (_quorumkv_v1_RingOwner__Output)[];
  'keyToken': (string);
  'preferenceList': (string)[];
}
