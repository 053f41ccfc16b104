"""An independent client of the quorumkv.v1 API for the end-to-end tests: Debian's
python3-grpcio with stubs that protoc and grpc_python_plugin generated from
proto/quorumkv/v1 at test time. Nothing here comes from our TypeScript code. Usage:

    quorum_client.py STUBS_DIR HOST:PORT CERTS_DIR put W PREFIX COUNT
    quorum_client.py STUBS_DIR HOST:PORT CERTS_DIR get R PREFIX COUNT

`put` writes COUNT keys PREFIX-0 .. PREFIX-<COUNT-1> (the value is "value of <key>")
with write quorum W; `get` reads them with read quorum R and every replica's answer.
CERTS_DIR holds ca.crt and client.admin.crt/.key. The address is a `kubectl
port-forward` on the loopback; the members' certificates name localhost, which is the
TLS name checked (grpcio checks host names, not the quorumkv identity).

Prints one JSON document with what it saw; the TypeScript test checks it.
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from quorumkv.v1 import kv_pb2, kv_pb2_grpc  # noqa: E402


def read(path):
    with open(path, "rb") as file:
        return file.read()


def tls_channel(address, certs_dir):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(os.path.join(certs_dir, "ca.crt")),
        private_key=read(os.path.join(certs_dir, "client.admin.key")),
        certificate_chain=read(os.path.join(certs_dir, "client.admin.crt")),
    )
    return grpc.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])


def main():
    address, certs_dir, operation = sys.argv[2], sys.argv[3], sys.argv[4]
    quorum, prefix, count = int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
    keys = [f"{prefix}-{index}" for index in range(count)]
    seen = []
    with tls_channel(address, certs_dir) as channel:
        kv = kv_pb2_grpc.KVStub(channel)
        for key in keys:
            if operation == "put":
                answer = kv.Put(kv_pb2.PutRequest(key=key.encode(), value=f"value of {key}".encode(), w=quorum), timeout=15)
                seen.append({"key": key, "acks": answer.acks})
            elif operation == "get":
                answer = kv.Get(kv_pb2.GetRequest(key=key.encode(), r=quorum, include_replicas=True), timeout=15)
                seen.append({
                    "key": key,
                    "found": answer.found,
                    "value": answer.value.decode(),
                    "acks": answer.acks,
                    "replicas": [{"node_id": r.node_id, "answered": r.answered, "found": r.found} for r in answer.replicas],
                })
            else:
                raise SystemExit(f"unknown operation {operation}: put or get")
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
