// Original file: proto/quorumkv/v1/admin.proto


export interface DecommissionResponse {
  'ringState'?: (string);
}

export interface DecommissionResponse__Output {
  'ringState': (string);
}
