"""
The FastAPI example (examples/orders-fastapi) for the bench: its protected GET /orders, and beside it the
same handler on the same middleware with no authentication (GET /bench/orders-open). The app is its own
stand-in issuer (discovery and JWKS on the same server) and hands out one valid token at /bench/token, so
the bench needs no Warden. Run with uvicorn from the repository root; BENCH_PORT is the port it listens on.
"""
import json
import os
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "examples" / "orders-fastapi")]
ISSUER = f"http://127.0.0.1:{os.environ['BENCH_PORT']}"
os.environ["WARDEN_ISSUER"] = ISSUER
os.environ.setdefault("RATE_LIMIT_PER_MINUTE", "100000000")

import app as example  # noqa: E402
from warden_auth import Principal  # noqa: E402

app = example.app
_key = ed25519.Ed25519PrivateKey.generate()
_jwk = {**json.loads(OKPAlgorithm.to_jwk(_key.public_key())), "kid": "bench", "alg": "EdDSA", "use": "sig"}
_now = int(time.time())
TOKEN = jwt.encode(
    {"iss": ISSUER, "aud": example.AUDIENCE, "sub": "bench", "iat": _now, "exp": _now + 3600, "scope": example.READ, "roles": ["clerk"]},
    _key,
    algorithm="EdDSA",
    headers={"kid": "bench", "typ": "at+jwt"},
)
FIXED = Principal(sub="bench", client_id=None, scopes=(example.READ,), roles=("clerk",), claims={})


@app.get("/.well-known/openid-configuration")
async def discovery():
    return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}


@app.get("/jwks")
async def jwks():
    return {"keys": [_jwk]}


@app.get("/bench/token")
async def token():
    return {"access_token": TOKEN}


@app.get("/bench/orders-open", response_model=list)
async def orders_open():
    return example.visible_orders(FIXED)
