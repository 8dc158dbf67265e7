"""WardenAuth: FastAPI dependencies over the Verifier (FastAPI is imported only when they are used)."""
from typing import Any, Callable, Optional, Sequence, Union

from .errors import WardenAuthError, WardenUnavailable, insufficient_scope, invalid_request, missing_role, missing_token
from .verifier import Introspection, Principal, Verifier


class WardenAuth:
    """
    ``auth = WardenAuth(issuer="https://auth.example.com", audience="https://orders.example")``, then
    ``Depends(auth.require_scope("orders:read"))``, ``Depends(auth.require_role("admin"))`` or
    ``Depends(auth.current_principal)``. ``secret_key=`` verifies Warden's HS256 tokens instead of its JWKS.
    """

    def __init__(
        self,
        issuer: str,
        audience: Union[str, Sequence[str]],
        *,
        algorithms: Optional[Sequence[str]] = None,
        clock_tolerance_seconds: float = 0,
        introspection: Optional[Introspection] = None,
        secret_key: Optional[str] = None,
        **verifier_options: Any,
    ):
        self.verifier = Verifier(
            issuer,
            audience,
            algorithms=algorithms,
            clock_tolerance_seconds=clock_tolerance_seconds,
            introspection=introspection,
            secret_key=secret_key,
            **verifier_options,
        )
        self._current: Optional[Callable[..., Any]] = None

    def verify(self, token: str) -> Principal:
        """Verify outside FastAPI (a worker, a websocket): the principal, or WardenAuthError."""
        return self.verifier.verify(token)

    async def authenticate(self, authorization: Optional[str]) -> Principal:
        """The principal from an ``Authorization`` header value (RFC 6750 section 2.1)."""
        if not authorization:
            raise missing_token()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise missing_token()  # another scheme carries no bearer credentials at all (section 3.1)
        token = token.strip()
        if not token or " " in token:
            raise invalid_request('the Authorization header must be "Bearer <token>"')
        if self.verifier.needs_io(token):
            # Discovery, a JWKS fetch or introspection would block the event loop: run it in a thread.
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(self.verifier.verify, token)
        return self.verifier.verify(token)

    @property
    def current_principal(self) -> Callable[..., Any]:
        """Dependency: the caller's Principal (401 without a valid token). One object, so FastAPI runs it once a request."""
        if self._current is None:
            self._current = self._build_current()
        return self._current

    def _build_current(self) -> Callable[..., Any]:
        from fastapi import Depends, HTTPException, Request
        from fastapi.security import HTTPBearer

        # Declares the bearer scheme in OpenAPI, so /docs has its "Authorize" button; the header is read below.
        scheme = HTTPBearer(auto_error=False, description="An access token from Warden")

        async def current_principal(request: Request, _credentials: Any = Depends(scheme)) -> Principal:
            try:
                return await self.authenticate(request.headers.get("authorization"))
            except WardenAuthError as e:
                raise http_error(e, HTTPException) from None
            except WardenUnavailable:
                # Not the caller's fault: a 503 they may retry, not a 401 that sends them to log in again.
                raise HTTPException(503, "the authorization server cannot be reached", headers={"Retry-After": "5"}) from None

        return current_principal

    def require_scope(self, *scopes: str) -> Callable[..., Any]:
        """Dependency: a valid token carrying every one of these scopes (else 403 insufficient_scope)."""
        from fastapi import Depends, HTTPException

        async def scoped(principal: Principal = Depends(self.current_principal)) -> Principal:
            if not all(s in principal.scopes for s in scopes):
                raise http_error(insufficient_scope(" ".join(scopes)), HTTPException)
            return principal

        return scoped

    def require_role(self, role: str) -> Callable[..., Any]:
        """Dependency: a valid token whose ``roles`` include this one (else 403)."""
        from fastapi import Depends, HTTPException

        async def with_role(principal: Principal = Depends(self.current_principal)) -> Principal:
            if role not in principal.roles:
                raise http_error(missing_role(role), HTTPException)
            return principal

        return with_role

    # The seeds' names ("secure FastAPI" articles): swap the definitions for these and keep the routes.
    @property
    def get_current_user(self) -> Callable[..., Any]:
        return self.current_principal

    @property
    def get_current_active_user(self) -> Callable[..., Any]:
        return self.current_principal

    @property
    def check_admin_permission(self) -> Callable[..., Any]:
        if not hasattr(self, "_admin"):
            self._admin = self.require_role("admin")
        return self._admin


def http_error(e: WardenAuthError, exception_class: Any) -> Exception:
    """The HTTPException FastAPI answers with: status, ``{"detail": ...}``, and the RFC 6750 challenge."""
    headers = {"Cache-Control": "no-store"}
    if e.www_authenticate:
        headers["WWW-Authenticate"] = e.www_authenticate
    return exception_class(status_code=e.status, detail=e.description, headers=headers)
