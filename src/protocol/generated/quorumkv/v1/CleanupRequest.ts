// Original file: proto/quorumkv/v1/admin.proto


export interface CleanupRequest {
}

export interface CleanupRequest__Output {
}
