"""Verification of Warden's access tokens, without any web framework."""
import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import jwt
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientError

from .errors import WardenAuthError, WardenUnavailable, invalid_token

DEFAULT_ALGORITHMS = ("EdDSA", "ES256")


@dataclass(frozen=True)
class Principal:
    """Who called, as the token says."""

    sub: str
    #: RFC 9068 ``client_id``: the application the token was issued to.
    client_id: Optional[str]
    scopes: Tuple[str, ...]
    roles: Tuple[str, ...]
    claims: Dict[str, Any] = field(repr=False)

    # The seeds' User shape, so code written like the FastAPI articles keeps working.
    @property
    def username(self) -> str:
        """``sub`` (Warden puts the username there with ``JWT_SUBJECT=username``)."""
        return self.sub

    @property
    def disabled(self) -> bool:
        """Always False: Warden stops issuing and answering for a disabled user's tokens."""
        return False


@dataclass(frozen=True)
class Introspection:
    """RFC 7662: ask Warden's /introspect about every token, to see a revocation at once."""

    client_id: str
    client_secret: str
    #: Default: the discovery document's ``introspection_endpoint``.
    endpoint: Optional[str] = None
    #: How long an "active" answer is trusted (default 0: every request asks Warden).
    cache_seconds: float = 0


def _fetch_json(url: str, data: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> Any:
    req = urllib.request.Request(url, data=data, headers={"Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as res:  # noqa: S310 (the issuer's own https/http URL)
            return json.loads(res.read())
    except (urllib.error.URLError, ValueError, OSError) as e:
        raise WardenUnavailable(f"{url}: {e}") from e


class _KeySet:
    """
    Warden's JWKS through PyJWKClient, fetched on first use and kept. A token signed by a key not yet
    seen (Warden rotated) makes it fetch again, at most once per cooldown: the ``kid`` header is chosen
    by whoever sends the token, and PyJWKClient alone refetches for every unknown one.
    """

    def __init__(self, jwks_uri: Callable[[], str], cooldown: float, max_age: float, now: Callable[[], float]):
        self._jwks_uri = jwks_uri
        self._cooldown = cooldown
        self._max_age = max_age
        self._now = now
        self._client: Optional[PyJWKClient] = None
        self._keys: Optional[Dict[str, Any]] = None
        self._fetched_at = float("-inf")
        self._failed_at = float("-inf")
        self._unknown_at = float("-inf")
        self._lock = threading.Lock()
        #: How many times the JWKS was requested.
        self.fetches = 0

    def ready_for(self, kid: Optional[str]) -> bool:
        """True when this kid can be looked up without any network request."""
        return self._keys is not None and kid in self._keys and self._now() - self._fetched_at < self._max_age

    def get(self, kid: Optional[str]):
        with self._lock:
            now = self._now()
            if self._keys is None or now - self._fetched_at >= self._max_age:
                self._refresh(now)
            elif kid not in self._keys and now - self._unknown_at >= self._cooldown:
                self._unknown_at = now
                self._refresh(now)
            key = self._keys.get(kid) if self._keys is not None else None
        if key is None:
            raise invalid_token("the access token is signed by an unknown key")
        return key

    def _refresh(self, now: float) -> None:
        if now - self._failed_at < self._cooldown:
            if self._keys is None:
                raise WardenUnavailable("the JWKS could not be fetched; waiting before trying again")
            return
        try:
            if self._client is None:
                self._client = PyJWKClient(self._jwks_uri(), cache_jwk_set=False)
            self.fetches += 1
            keys = self._client.get_signing_keys()
            self._keys = {k.key_id: k for k in keys}
            self._fetched_at = now
        except (PyJWKClientError, WardenUnavailable) as e:
            self._failed_at = now
            # Stale keys still verify while Warden is unreachable; without any, the caller must fail.
            if self._keys is None:
                raise WardenUnavailable(str(e)) from e


class Verifier:
    """
    Verifies RFC 9068 access tokens: ``typ`` at+jwt, ``iss``, ``aud``, ``exp``, ``nbf``, ``iat``, the
    algorithm pinned. Keys come from Warden's JWKS (discovered), or, with ``secret_key``, from the HS256
    secret Warden shares (``JWT_ALGORITHM=HS256``).
    """

    def __init__(
        self,
        issuer: str,
        audience: Union[str, Sequence[str]],
        algorithms: Optional[Sequence[str]] = None,
        clock_tolerance_seconds: float = 0,
        introspection: Optional[Introspection] = None,
        secret_key: Optional[str] = None,
        jwks_cooldown_seconds: float = 30,
        jwks_max_age_seconds: float = 600,
        cache_size: int = 1000,
        now: Callable[[], float] = time.time,
    ):
        if not issuer:
            raise ValueError("issuer is required")
        if not audience:
            raise ValueError("audience is required")
        self.issuer = issuer
        self.audience = audience
        self.leeway = clock_tolerance_seconds
        self.introspection = introspection
        self._now = now
        self._cache_size = cache_size
        self._cache: "OrderedDict[str, Tuple[Principal, float, float]]" = OrderedDict()
        self._metadata: Optional[Dict[str, Any]] = None
        if secret_key is not None:
            if len(secret_key) < 32:
                raise ValueError("secret_key must be at least 32 characters (Warden refuses shorter ones too)")
            # The shared secret verifies HS256 only: never a public-key algorithm with it, nor the reverse.
            self.algorithms = ["HS256"]
            self._secret: Optional[str] = secret_key
            self._keys: Optional[_KeySet] = None
        else:
            self.algorithms = list(algorithms or DEFAULT_ALGORITHMS)
            if any(a == "none" or a.startswith("HS") for a in self.algorithms):
                raise ValueError("algorithms must be asymmetric (a JWKS has no shared secrets); use secret_key for HS256")
            self._secret = None
            self._keys = _KeySet(lambda: self._discover()["jwks_uri"], jwks_cooldown_seconds, jwks_max_age_seconds, now)

    # --- discovery -------------------------------------------------------------------------------------

    def _discover(self) -> Dict[str, Any]:
        """OIDC Discovery section 4; its ``issuer`` must be exactly ours (section 4.3)."""
        if self._metadata is None:
            doc = _fetch_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
                raise WardenUnavailable(f"the discovery document names another issuer than {self.issuer}")
            if not isinstance(doc.get("jwks_uri"), str):
                raise WardenUnavailable("the discovery document has no jwks_uri")
            self._metadata = doc
        return self._metadata

    # --- verification ----------------------------------------------------------------------------------

    def needs_io(self, token: str) -> bool:
        """Whether verifying this token may wait on the network (so async callers run it in a thread)."""
        if self.introspection is not None:
            hit = self._cache.get(token)
            return hit is None or self._now() - hit[2] >= self.introspection.cache_seconds
        if token in self._cache or self._keys is None:
            return False
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        return not self._keys.ready_for(kid)

    def verify(self, token: str) -> Principal:
        """The principal of a valid access token; WardenAuthError (invalid_token) otherwise."""
        if not isinstance(token, str) or not token:
            raise invalid_token("the access token is malformed")
        now = self._now()
        hit = self._cache.get(token)
        if hit is not None and now < hit[1]:
            principal, _, checked_at = hit
            if self.introspection is not None and now - checked_at >= self.introspection.cache_seconds:
                self._introspect_or_forget(token)
                self._cache[token] = (principal, hit[1], now)
            return principal
        principal = self._verify_signed(token, now)
        if self.introspection is not None:
            self._introspect_or_forget(token)
        if self._cache_size > 0:
            if len(self._cache) >= self._cache_size:
                self._cache.popitem(last=False)
            self._cache[token] = (principal, principal.claims["exp"] + self.leeway, now)
        return principal

    def _verify_signed(self, token: str, now: float) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid_token("the access token is malformed") from None
        # RFC 9068 section 4: an access token says so in its header; an id_token (typ JWT) is refused here.
        typ = str(header.get("typ", "")).lower()
        if typ.startswith("application/"):
            typ = typ[len("application/"):]
        if typ != "at+jwt":
            raise invalid_token("not an access token (RFC 9068 typ at+jwt)")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise invalid_token("the access token is signed with an algorithm this service does not accept")
        if self._keys is not None:
            jwk = self._keys.get(header.get("kid"))
            key_alg = jwk._jwk_data.get("alg")
            if key_alg is not None and key_alg != alg:
                raise invalid_token("the access token is signed with an algorithm this service does not accept")
            key: Any = jwk.key
        else:
            key = self._secret
        try:
            claims = _decode_at(token, key, self, now)
        except jwt.ExpiredSignatureError:
            raise invalid_token("the access token has expired") from None
        except jwt.InvalidAudienceError:
            raise invalid_token("the access token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise invalid_token("the access token is from another issuer") from None
        except jwt.ImmatureSignatureError:
            raise invalid_token("the access token's nbf claim is invalid") from None
        except jwt.InvalidSignatureError:
            raise invalid_token("the access token signature is invalid") from None
        except jwt.MissingRequiredClaimError as e:
            raise invalid_token(f"the access token lacks the {e.claim} claim") from None
        except jwt.PyJWTError:
            raise invalid_token() from None
        return _principal_of(claims)

    def _introspect_or_forget(self, token: str) -> None:
        try:
            self._introspect(token)
        except WardenAuthError:
            self._cache.pop(token, None)
            raise

    def _introspect(self, token: str) -> None:
        assert self.introspection is not None
        i = self.introspection
        endpoint = i.endpoint or self._discover().get("introspection_endpoint")
        if not endpoint:
            raise WardenUnavailable("the discovery document has no introspection_endpoint")
        # RFC 6749 section 2.3.1: id and secret are form-urlencoded before base64.
        pair = f"{urllib.parse.quote(i.client_id, safe='')}:{urllib.parse.quote(i.client_secret, safe='')}"
        basic = "Basic " + base64.b64encode(pair.encode()).decode()
        body = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token"}).encode()
        answer = _fetch_json(endpoint, body, {"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"})
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise invalid_token("the access token is no longer active")


def _decode_at(token: str, key: Any, v: Verifier, now: float) -> Dict[str, Any]:
    """Signature, iss, aud by PyJWT; the time claims here, against the verifier's clock (PyJWT reads the system's)."""
    claims = jwt.decode(
        token,
        key,
        algorithms=v.algorithms,
        audience=v.audience,
        issuer=v.issuer,
        options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    if not isinstance(claims.get("exp"), (int, float)) or now >= claims["exp"] + v.leeway:
        raise jwt.ExpiredSignatureError("expired")
    if "nbf" in claims and (not isinstance(claims["nbf"], (int, float)) or now < claims["nbf"] - v.leeway):
        raise jwt.ImmatureSignatureError("nbf")
    if not isinstance(claims.get("iat"), (int, float)):
        raise jwt.InvalidIssuedAtError("iat")
    return claims


def _principal_of(claims: Dict[str, Any]) -> Principal:
    scope = claims.get("scope")
    roles = claims.get("roles")
    client_id = claims.get("client_id")
    return Principal(
        sub=str(claims["sub"]),
        client_id=client_id if isinstance(client_id, str) else None,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        claims=claims,
    )
