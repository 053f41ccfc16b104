// Original file: proto/quorumkv/v1/admin.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
