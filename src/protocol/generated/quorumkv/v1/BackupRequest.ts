// Original file: proto/quorumkv/v1/admin.proto


export interface BackupRequest {
  'destination'?: (string);
}

export interface BackupRequest__Output {
  'destination': (string);
}
