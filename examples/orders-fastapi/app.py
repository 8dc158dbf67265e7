"""
The "orders" API, protected by Warden: a route per scope, an admin-only route, a per-object check, and
the seeds' other practices in their simplest right form (security headers, CORS allowlist, rate limit,
request id in every log line). Run: WARDEN_ISSUER=http://127.0.0.1:8420 uvicorn app:app --port 8001
"""
import logging
import os
import re
import time
import uuid
from itertools import count
from typing import Dict, List, Optional

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from warden_auth import Introspection, Principal, WardenAuth

ISSUER = os.environ["WARDEN_ISSUER"]
AUDIENCE = os.environ.get("ORDERS_AUDIENCE", "https://orders.example")
READ = os.environ.get("ORDERS_READ_SCOPE", "orders:read")
WRITE = os.environ.get("ORDERS_WRITE_SCOPE", "orders:write")
CORS_ORIGINS = [o for o in os.environ.get("CORS_ORIGINS", "").split(",") if o]
RATE_LIMIT_PER_MINUTE = int(os.environ.get("RATE_LIMIT_PER_MINUTE", "600"))

# Introspection (RFC 7662) sees a revocation at the next request, at one call to Warden per request.
introspection = None
if os.environ.get("INTROSPECTION_CLIENT_ID"):
    introspection = Introspection(
        os.environ["INTROSPECTION_CLIENT_ID"],
        os.environ["INTROSPECTION_CLIENT_SECRET"],
        cache_seconds=float(os.environ.get("INTROSPECTION_CACHE_SECONDS", "0")),
    )
auth = WardenAuth(issuer=ISSUER, audience=AUDIENCE, introspection=introspection)

log = logging.getLogger("orders")
log.setLevel(logging.INFO)
logging.basicConfig(format="%(message)s")
app = FastAPI(title="Orders")


class OrderIn(BaseModel):
    item: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1000)


class Order(OrderIn):
    id: int
    owner: str


ORDERS: Dict[int, Order] = {}
_ids = count(1)


def visible_orders(principal: Principal) -> List[Order]:
    """A clerk sees their own orders; an admin sees all."""
    if "admin" in principal.roles:
        return list(ORDERS.values())
    return [o for o in ORDERS.values() if o.owner == principal.sub]


@app.get("/orders", response_model=List[Order])
async def list_orders(principal: Principal = Depends(auth.require_scope(READ))):
    return visible_orders(principal)


@app.get("/orders/{order_id}", response_model=Order)
async def read_order(order_id: int, principal: Principal = Depends(auth.require_scope(READ))):
    order = ORDERS.get(order_id)
    # Someone else's order answers 404, like a missing one: its existence is not the caller's business.
    if order is None or (order.owner != principal.sub and "admin" not in principal.roles):
        raise HTTPException(404, "order not found")
    return order


@app.post("/orders", response_model=Order, status_code=201)
async def create_order(body: OrderIn, principal: Principal = Depends(auth.require_scope(WRITE))):
    order = Order(id=next(_ids), owner=principal.sub, **body.dict())
    ORDERS[order.id] = order
    return order


@app.delete("/orders/{order_id}", status_code=204)
async def delete_order(order_id: int, principal: Principal = Depends(auth.require_role("admin"))):
    if ORDERS.pop(order_id, None) is None:
        raise HTTPException(404, "order not found")


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


# --- the seeds' other practices ----------------------------------------------------------------------

app.add_middleware(
    CORSMiddleware,
    allow_origins=CORS_ORIGINS,  # an allowlist; never "*" for an API that takes credentials
    allow_methods=["GET", "POST", "DELETE"],
    allow_headers=["Authorization", "Content-Type"],
    expose_headers=["WWW-Authenticate", "X-Request-Id", "Retry-After"],
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_hits: Dict[str, List[float]] = {}


def rate_limited(ip: str, now: float) -> Optional[int]:
    """Seconds to wait when this address made RATE_LIMIT_PER_MINUTE requests in the last minute (per process)."""
    recent = [t for t in _hits.get(ip, []) if now - t < 60]
    if len(recent) >= RATE_LIMIT_PER_MINUTE:
        _hits[ip] = recent
        return int(60 - (now - recent[0])) + 1
    recent.append(now)
    _hits[ip] = recent
    return None


@app.middleware("http")
async def practices(request: Request, call_next):
    started = time.perf_counter()
    given = request.headers.get("x-request-id", "")
    request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    wait = rate_limited(request.client.host if request.client else "-", time.monotonic())
    if wait is not None:
        response = JSONResponse({"detail": "too many requests"}, status_code=429, headers={"Retry-After": str(wait)})
    else:
        response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["X-Request-Id"] = request_id
    # The path without its query string, never the Authorization header: no secrets in the log.
    log.info('{"request_id":"%s","method":"%s","path":"%s","status":%d,"ms":%.1f}', request_id, request.method, request.url.path, response.status_code, (time.perf_counter() - started) * 1000)
    return response
