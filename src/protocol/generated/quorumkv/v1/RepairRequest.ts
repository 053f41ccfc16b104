// Original file: proto/quorumkv/v1/admin.proto


export interface RepairRequest {
}

export interface RepairRequest__Output {
}
