"""RFC 6750 section 3.1 errors, the same codes and challenges as the Node kit."""
from typing import Optional


class WardenAuthError(Exception):
    """A request the resource server refuses: status, RFC 6750 code, and a description safe to send."""

    def __init__(self, code: Optional[str], status: int, description: str, scope: Optional[str] = None):
        super().__init__(description)
        #: RFC 6750 code, or None when the request carried no credentials at all (section 3.1: no code then).
        self.code = code
        self.status = status
        self.description = description
        self.scope = scope

    @property
    def www_authenticate(self) -> Optional[str]:
        if self.code == "forbidden":
            return None  # a missing role is nothing the client can fix by asking for a scope
        if self.code is None:
            return "Bearer"
        params = [f'error="{self.code}"']
        if self.code != "insufficient_scope":
            params.append(f'error_description="{_quote(self.description)}"')
        if self.scope:
            params.append(f'scope="{_quote(self.scope)}"')
        return "Bearer " + ", ".join(params)

    def body(self) -> dict:
        return {"error": self.code or "missing_token", "error_description": self.description}


def _quote(s: str) -> str:
    """RFC 7235 quoted-string: no quote or backslash inside, only printable ASCII."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" for c in s)


class WardenUnavailable(Exception):
    """Warden could not be asked (discovery, keys or introspection): the server's fault, not the caller's."""


def missing_token() -> WardenAuthError:
    return WardenAuthError(None, 401, "authentication required: send Authorization: Bearer <token>")


def invalid_request(description: str) -> WardenAuthError:
    return WardenAuthError("invalid_request", 400, description)


def invalid_token(description: str = "the access token is invalid, expired or revoked") -> WardenAuthError:
    return WardenAuthError("invalid_token", 401, description)


def insufficient_scope(scope: str) -> WardenAuthError:
    return WardenAuthError("insufficient_scope", 403, f'the token lacks the scope "{scope}"', scope)


def missing_role(role: str) -> WardenAuthError:
    return WardenAuthError("forbidden", 403, f'this needs the role "{role}"')
