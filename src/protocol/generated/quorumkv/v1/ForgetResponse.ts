// Original file: proto/quorumkv/v1/admin.proto


export interface ForgetResponse {
  'member'?: (string);
  'previousRingState'?: (string);
}

export interface ForgetResponse__Output {
  'member': (string);
  'previousRingState': (string);
}
