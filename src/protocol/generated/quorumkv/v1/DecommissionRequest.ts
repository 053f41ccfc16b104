// Original file: proto/quorumkv/v1/admin.proto


export interface DecommissionRequest {
}

export interface DecommissionRequest__Output {
}
