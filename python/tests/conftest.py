import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import OKPAlgorithm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AUD = "https://orders.example"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Key:
    def __init__(self, kid: str, alg: str = "EdDSA"):
        self.kid, self.alg = kid, alg
        if alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            # RFC 7518 6.2.1.2: coordinates are the full 32 bytes. Debian's PyJWT drops leading zero
            # bytes in to_jwk (about one key in 128), which its own from_jwk then refuses.
            numbers = self.private.public_key().public_numbers()
            jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}
        self.public_jwk = {**jwk, "kid": kid, "alg": alg, "use": "sig"}


class FakeIssuer:
    """Warden's discovery, JWKS and introspection endpoints on a real socket, counting requests."""

    def __init__(self):
        self.keys = []
        self.jwks_requests = 0
        self.introspections = 0
        self.active = set()
        self.clients = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    return self._json(200, {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks", "introspection_endpoint": issuer.url + "/introspect"})
                if self.path == "/jwks":
                    issuer.jwks_requests += 1
                    return self._json(200, {"keys": [k.public_jwk for k in issuer.keys]})
                self._json(404, {})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                issuer.introspections += 1
                import base64
                from urllib.parse import unquote

                raw = base64.b64decode(self.headers.get("Authorization", "Basic ")[6:]).decode()
                cid, _, secret = raw.partition(":")
                if issuer.clients.get(unquote(cid)) != unquote(secret):
                    return self._json(401, {"error": "invalid_client"})
                token = parse_qs(body)["token"][0]
                claims = jwt.decode(token, options={"verify_signature": False})
                self._json(200, {"active": True, "sub": claims["sub"]} if claims.get("jti") in issuer.active else {"active": False})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key: Key, now: float, claims=None, header=None, aud=AUD, ttl=900, iss=None, drop=()):
        payload = {
            "iss": iss or self.url,
            "aud": aud,
            "sub": "user-1",
            "iat": int(now),
            "exp": int(now) + ttl,
            "jti": f"jti-{time.monotonic_ns()}",
            "scope": "orders:read",
            "roles": ["user"],
            "client_id": "wc-app",
            **(claims or {}),
        }
        for name in drop:
            payload.pop(name, None)
        headers = {"kid": key.kid, "typ": "at+jwt", **(header or {})}
        headers = {k: v for k, v in headers.items() if v is not None}
        return jwt.encode(payload, key.private, algorithm=key.alg, headers=headers)


@pytest.fixture(scope="session")
def idp():
    issuer = FakeIssuer()
    issuer.keys.append(Key("k1"))
    yield issuer
    issuer.server.shutdown()


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock():
    return Clock()
