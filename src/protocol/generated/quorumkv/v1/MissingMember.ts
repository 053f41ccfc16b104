// Original file: proto/quorumkv/v1/admin.proto


export interface MissingMember {
  'nodeId'?: (string);
  'reason'?: (string);
}

export interface MissingMember__Output {
  'nodeId': (string);
  'reason': (string);
}
