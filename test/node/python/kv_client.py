"""An independent client of the quorumkv.v1 API: Debian's python3-grpcio with stubs
that protoc and grpc_python_plugin generated from proto/quorumkv/v1 at test time.
Nothing here comes from our TypeScript code. Usage:

    kv_client.py STUBS_DIR HOST:PORT KEY_WRITTEN_BY_NODE CERTS_DIR [USER]

The node's client port takes TLS with a client certificate: CERTS_DIR holds the
cluster's ca.crt and client.USER.crt/.key (USER defaults to admin), as `qkv certs` and
the local cluster write them. Node certificates name localhost and 127.0.0.1, and a
node is reached by IP address, so the TLS name checked is localhost (grpcio checks
host names; it cannot be told to check the quorumkv identity instead).

Prints one JSON document with what it saw; the TypeScript test checks it.
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from quorumkv.v1 import admin_pb2, admin_pb2_grpc, kv_pb2, kv_pb2_grpc  # noqa: E402


def read(path):
    with open(path, "rb") as file:
        return file.read()


def tls_channel(address, certs_dir, user):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(os.path.join(certs_dir, "ca.crt")),
        private_key=read(os.path.join(certs_dir, f"client.{user}.key")),
        certificate_chain=read(os.path.join(certs_dir, f"client.{user}.crt")),
    )
    return grpc.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])


def main():
    address, node_key, certs_dir = sys.argv[2], sys.argv[3].encode(), sys.argv[4]
    user = sys.argv[5] if len(sys.argv) > 5 else "admin"
    with tls_channel(address, certs_dir, user) as channel:
        kv = kv_pb2_grpc.KVStub(channel)
        admin = admin_pb2_grpc.AdminStub(channel)

        put = kv.Put(kv_pb2.PutRequest(key=b"py-key", value=b"from python", w=2), timeout=10)
        got = kv.Get(kv_pb2.GetRequest(key=b"py-key", r=2, include_replicas=True), timeout=10)
        theirs = kv.Get(kv_pb2.GetRequest(key=node_key, r=2), timeout=10)
        status = admin.Status(admin_pb2.StatusRequest(), timeout=10)

        try:
            kv.Put(kv_pb2.PutRequest(key=b"", value=b"x"), timeout=10)
            bad = {"status": "OK"}
        except grpc.RpcError as error:
            codes = [v for k, v in (error.trailing_metadata() or ()) if k == "qkv-error-code"]
            bad = {"status": error.code().name, "qkv_error_code": codes, "details": error.details()}

        print(json.dumps({
            "put": {"acks": put.acks, "stamp": str(put.version.stamp), "node_id": put.version.node_id},
            "get": {
                "found": got.found,
                "value": got.value.decode(),
                "acks": got.acks,
                "stamp": str(got.version.stamp),
                "replicas": [
                    {"node_id": r.node_id, "answered": r.answered, "found": r.found} for r in got.replicas
                ],
            },
            "node_written": {"found": theirs.found, "value": theirs.value.decode()},
            "status": {"node_id": status.node_id, "members": [m.id for m in status.members]},
            "empty_key": bad,
        }))


if __name__ == "__main__":
    main()
