// Original file: proto/quorumkv/v1/admin.proto


export interface MemberStatus {
  'id'?: (string);
  'address'?: (string);
  'zone'?: (string);
  'ready'?: (boolean);
  'self'?: (boolean);
}

export interface MemberStatus__Output {
  'id': (string);
  'address': (string);
  'zone': (string);
  'ready': (boolean);
  'self': (boolean);
}
