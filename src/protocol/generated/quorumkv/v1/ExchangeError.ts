// Original file: proto/quorumkv/v1/replica.proto


export interface ExchangeError {
  'code'?: (string);
  'message'?: (string);
}

export interface ExchangeError__Output {
  'code': (string);
  'message': (string);
}
