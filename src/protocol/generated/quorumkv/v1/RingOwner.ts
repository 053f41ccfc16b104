// Original file: proto/quorumkv/v1/admin.proto


export interface RingOwner {
  'nodeId'?: (string);
  'tokens'?: (number);
  'primaryShare'?: (number | string);
}

export interface RingOwner__Output {
  'nodeId': (string);
  'tokens': (number);
  'primaryShare': (number);
}
