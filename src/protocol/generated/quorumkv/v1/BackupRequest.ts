// Original file: proto/quorumkv/v1/admin.proto


export interface BackupRequest {
  'destination'?: (string);
  'requireAllMembers'?: (boolean);
}

export interface BackupRequest__Output {
  'destination': (string);
  'requireAllMembers': (boolean);
}
