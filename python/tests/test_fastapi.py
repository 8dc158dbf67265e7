import pytest

fastapi = pytest.importorskip("fastapi")
from conftest import AUD  # noqa: E402
from fastapi import Depends, FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from warden_auth import Principal, WardenAuth  # noqa: E402


@pytest.fixture
def client(idp):
    auth = WardenAuth(issuer=idp.url, audience=AUD)
    app = FastAPI()

    @app.get("/orders")
    async def orders(principal: Principal = Depends(auth.require_scope("orders:read"))):
        return {"sub": principal.sub, "scopes": list(principal.scopes)}

    @app.post("/orders")
    async def create(principal: Principal = Depends(auth.require_scope("orders:write"))):
        return {"ok": True}

    @app.get("/admin")
    async def admin(principal: Principal = Depends(auth.require_role("admin"))):
        return {"ok": True}

    @app.get("/me")
    async def me(principal: Principal = Depends(auth.current_principal)):
        return {"sub": principal.sub}

    # The seeds' shape: their dependency names, their routes unchanged.
    get_current_user = auth.get_current_user
    check_admin_permission = auth.check_admin_permission

    @app.get("/users/me")
    async def read_users_me(current_user=Depends(get_current_user)):
        return {"username": current_user.username, "disabled": current_user.disabled}

    @app.get("/admin-only")
    async def admin_only(current_user=Depends(check_admin_permission)):
        return {"message": f"Hello admin {current_user.username}"}

    return TestClient(app)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_statuses_and_rfc6750_challenges(idp, client):
    import time

    now = time.time()
    reader = idp.token(idp.keys[0], now, claims={"roles": ["clerk"]})
    admin = idp.token(idp.keys[0], now, claims={"scope": "orders:read orders:write", "roles": ["admin"]})
    r = client.get("/orders", headers=bearer(reader))
    assert (r.status_code, r.json()) == (200, {"sub": "user-1", "scopes": ["orders:read"]})
    r = client.get("/orders")
    assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")
    r = client.get("/orders", headers=bearer(idp.token(idp.keys[0], now, aud="https://billing.example")))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="the access token is for another audience"'
    assert r.json() == {"detail": "the access token is for another audience"}
    r = client.get("/orders", headers=bearer(idp.token(idp.keys[0], now, header={"typ": "JWT"})))
    assert r.status_code == 401
    r = client.post("/orders", headers=bearer(reader))
    assert (r.status_code, r.headers["www-authenticate"]) == (403, 'Bearer error="insufficient_scope", scope="orders:write"')
    assert client.post("/orders", headers=bearer(admin)).status_code == 200
    r = client.get("/admin", headers=bearer(reader))
    assert (r.status_code, r.json(), "www-authenticate" in r.headers) == (403, {"detail": 'this needs the role "admin"'}, False)
    assert client.get("/admin", headers=bearer(admin)).status_code == 200
    assert client.get("/me", headers={"Authorization": "Bearer"}).status_code == 400
    assert client.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_the_seeds_shape_keeps_working(idp, client):
    import time

    admin = idp.token(idp.keys[0], time.time(), claims={"roles": ["admin", "user"]})
    user = idp.token(idp.keys[0], time.time())
    assert client.get("/users/me", headers=bearer(user)).json() == {"username": "user-1", "disabled": False}
    assert client.get("/admin-only", headers=bearer(admin)).json() == {"message": "Hello admin user-1"}
    assert client.get("/admin-only", headers=bearer(user)).status_code == 403


def test_openapi_declares_the_bearer_scheme(client):
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"


def test_warden_unreachable_is_503_not_401(clock):
    auth = WardenAuth(issuer="http://127.0.0.1:9", audience=AUD)
    app = FastAPI()

    @app.get("/me")
    async def me(principal: Principal = Depends(auth.current_principal)):
        return {}

    r = TestClient(app).get("/me", headers=bearer("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.e30.AAAA"))
    assert r.status_code == 503
