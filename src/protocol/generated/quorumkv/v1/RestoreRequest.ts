// Original file: proto/quorumkv/v1/admin.proto


export interface RestoreRequest {
  'destination'?: (string);
  'backupId'?: (string);
}

export interface RestoreRequest__Output {
  'destination': (string);
  'backupId': (string);
}
