// Original file: proto/quorumkv/v1/admin.proto


export interface ForgetRequest {
  'member'?: (string);
}

export interface ForgetRequest__Output {
  'member': (string);
}
