"""Verify Warden's access tokens in a Python service (FastAPI dependencies with the ``fastapi`` extra)."""
from .auth import WardenAuth
from .errors import WardenAuthError, WardenUnavailable
from .verifier import Introspection, Principal, Verifier

__all__ = ["WardenAuth", "WardenAuthError", "WardenUnavailable", "Introspection", "Principal", "Verifier"]
__version__ = "0.1.0"
