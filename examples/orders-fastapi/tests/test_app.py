"""The example's own behaviour, against a stand-in issuer (the end-to-end run with Warden is test/kit/)."""
import importlib
import logging
import os
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "python"), str(ROOT / "python" / "tests"), str(Path(__file__).resolve().parents[1])]
from conftest import FakeIssuer, Key  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402


@pytest.fixture(scope="module")
def idp():
    issuer = FakeIssuer()
    issuer.keys.append(Key("k1"))
    yield issuer
    issuer.server.shutdown()


@pytest.fixture
def example(idp, monkeypatch):
    monkeypatch.setenv("WARDEN_ISSUER", idp.url)
    monkeypatch.setenv("CORS_ORIGINS", "https://shop.example")
    sys.modules.pop("app", None)
    module = importlib.import_module("app")
    return module, TestClient(module.app)


def as_user(idp, sub, scope="orders:read orders:write", roles=("clerk",)):
    token = idp.token(idp.keys[0], time.time(), claims={"sub": sub, "scope": scope, "roles": list(roles)})
    return {"Authorization": f"Bearer {token}"}


def test_a_clerk_sees_only_their_own_orders_and_an_admin_sees_all(idp, example):
    _, client = example
    alice, bob, admin = as_user(idp, "alice"), as_user(idp, "bob"), as_user(idp, "root", roles=("admin",))
    created = client.post("/orders", json={"item": "tea", "quantity": 2}, headers=alice)
    assert created.status_code == 201
    order = created.json()
    assert order == {"item": "tea", "quantity": 2, "id": order["id"], "owner": "alice"}
    assert client.get(f"/orders/{order['id']}", headers=alice).status_code == 200
    assert client.get(f"/orders/{order['id']}", headers=bob).status_code == 404
    assert client.get("/orders", headers=bob).json() == []
    assert [o["owner"] for o in client.get("/orders", headers=admin).json()] == ["alice"]
    assert client.delete(f"/orders/{order['id']}", headers=alice).status_code == 403
    assert client.delete(f"/orders/{order['id']}", headers=admin).status_code == 204


def test_a_read_only_token_cannot_write(idp, example):
    _, client = example
    r = client.post("/orders", json={"item": "tea", "quantity": 1}, headers=as_user(idp, "alice", scope="orders:read"))
    assert (r.status_code, r.headers["www-authenticate"]) == (403, 'Bearer error="insufficient_scope", scope="orders:write"')


def test_security_headers_request_id_cors_allowlist_and_rate_limit(idp, example, caplog, monkeypatch):
    module, client = example
    monkeypatch.setattr(module, "RATE_LIMIT_PER_MINUTE", 6)
    caplog.set_level(logging.INFO, logger="orders")
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-request-id"] == "abc-123"
    assert '"request_id":"abc-123"' in caplog.text and '"path":"/healthz"' in caplog.text
    assert client.get("/healthz", headers={"X-Request-Id": "bad id\n"}).headers["x-request-id"] != "bad id\n"
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    ok = client.options("/orders", headers={"Origin": "https://shop.example", **preflight})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    evil = client.options("/orders", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in evil.headers
    statuses = [client.get("/healthz").status_code for _ in range(5)]
    assert statuses[-1] == 429
    assert int(client.get("/healthz").headers["retry-after"]) > 0
