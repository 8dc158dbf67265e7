import base64
import hashlib
import hmac
import json

import pytest
from conftest import AUD, Key

from warden_auth import Introspection, Verifier, WardenAuthError, WardenUnavailable


def refusal(verifier, token) -> WardenAuthError:
    with pytest.raises(WardenAuthError) as info:
        verifier.verify(token)
    return info.value


def test_a_valid_token_gives_sub_client_scopes_roles_and_claims(idp, clock):
    v = Verifier(idp.url, AUD, now=clock)
    p = v.verify(idp.token(idp.keys[0], clock.t, claims={"scope": "orders:read orders:write", "roles": ["clerk"]}))
    assert (p.sub, p.client_id, p.scopes, p.roles) == ("user-1", "wc-app", ("orders:read", "orders:write"), ("clerk",))
    assert p.claims["aud"] == AUD
    assert p.username == "user-1"


def test_es256_is_accepted_by_default_too(idp, clock):
    es = Key("es1", "ES256")
    idp.keys.append(es)
    try:
        assert Verifier(idp.url, AUD, now=clock).verify(idp.token(es, clock.t)).sub == "user-1"
    finally:
        idp.keys.remove(es)


@pytest.mark.parametrize(
    "over, description",
    [
        ({"aud": "https://billing.example"}, "the access token is for another audience"),
        ({"iss": "https://evil.example"}, "the access token is from another issuer"),
        ({"header": {"typ": "JWT"}}, "not an access token (RFC 9068 typ at+jwt)"),
        ({"ttl": -1}, "the access token has expired"),
        ({"claims": {"nbf": 1_800_000_060}}, "the access token's nbf claim is invalid"),
        ({"header": {"kid": "forged"}}, "the access token is signed by an unknown key"),
        ({"drop": ["sub"]}, "the access token lacks the sub claim"),
    ],
)
def test_refuses_with_401_invalid_token(idp, clock, over, description):
    e = refusal(Verifier(idp.url, AUD, now=clock), idp.token(idp.keys[0], clock.t, **over))
    assert (e.status, e.code, e.description) == (401, "invalid_token", description)
    assert e.www_authenticate == f'Bearer error="invalid_token", error_description="{description}"'


def test_application_at_jwt_is_the_same_typ(idp, clock):
    token = idp.token(idp.keys[0], clock.t, header={"typ": "application/at+jwt"})
    assert Verifier(idp.url, AUD, now=clock).verify(token).sub == "user-1"


def test_algorithm_pinned_key_confusion_and_none_refused(idp, clock):
    v = Verifier(idp.url, AUD, now=clock)
    b64 = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()  # noqa: E731
    payload = b64({"iss": idp.url, "aud": AUD, "sub": "user-1", "iat": int(clock.t), "exp": int(clock.t) + 60})
    head = b64({"alg": "HS256", "kid": "k1", "typ": "at+jwt"})
    secret = json.dumps(idp.keys[0].public_jwk).encode()
    sig = base64.urlsafe_b64encode(hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    assert refusal(v, f"{head}.{payload}.{sig}").description == "the access token is signed with an algorithm this service does not accept"
    assert refusal(v, f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{payload}.").code == "invalid_token"
    # ES256 claimed in the header, for an Ed25519 key of the JWKS.
    es_head = b64({"alg": "ES256", "kid": "k1", "typ": "at+jwt"})
    assert refusal(v, f"{es_head}.{payload}.AAAA").description == "the access token is signed with an algorithm this service does not accept"
    with pytest.raises(ValueError):
        Verifier(idp.url, AUD, algorithms=["HS256"])


def test_clock_tolerance(idp, clock):
    v = Verifier(idp.url, AUD, now=clock, clock_tolerance_seconds=30)
    token = idp.token(idp.keys[0], clock.t, ttl=60)
    clock.t += 80
    assert v.verify(token).sub == "user-1"
    clock.t += 20
    assert refusal(v, token).description == "the access token has expired"


def test_a_remembered_token_stops_being_accepted_when_it_expires(idp, clock):
    v = Verifier(idp.url, AUD, now=clock)
    token = idp.token(idp.keys[0], clock.t, ttl=60)
    v.verify(token)
    clock.t += 60
    assert refusal(v, token).description == "the access token has expired"


def test_rotation_is_picked_up_and_forged_kids_refetch_at_most_once_per_cooldown(idp, clock):
    v = Verifier(idp.url, AUD, now=clock, jwks_cooldown_seconds=30)
    before = idp.jwks_requests
    v.verify(idp.token(idp.keys[0], clock.t))
    assert idp.jwks_requests - before == 1
    k2 = Key("k2")
    idp.keys.append(k2)
    try:
        assert v.verify(idp.token(k2, clock.t)).sub == "user-1"
        assert idp.jwks_requests - before == 2
        for i in range(20):
            refusal(v, idp.token(idp.keys[0], clock.t, header={"kid": f"forged-{i}"}))
        assert idp.jwks_requests - before == 2
        clock.t += 29
        refusal(v, idp.token(idp.keys[0], clock.t, header={"kid": "forged-x"}))
        assert idp.jwks_requests - before == 2
        clock.t += 1
        refusal(v, idp.token(idp.keys[0], clock.t, header={"kid": "forged-y"}))
        assert idp.jwks_requests - before == 3
    finally:
        idp.keys.remove(k2)


def test_the_jwks_is_fetched_again_after_max_age(idp, clock):
    v = Verifier(idp.url, AUD, now=clock, jwks_max_age_seconds=600)
    before = idp.jwks_requests
    v.verify(idp.token(idp.keys[0], clock.t))
    clock.t += 600
    v.verify(idp.token(idp.keys[0], clock.t))
    assert idp.jwks_requests - before == 2


def test_a_discovery_document_for_another_issuer_is_refused(idp, clock):
    v = Verifier(idp.url + "/", AUD, now=clock)
    with pytest.raises(WardenUnavailable):
        v.verify(idp.token(idp.keys[0], clock.t))


def test_hs256_shared_secret_mode(clock):
    import jwt

    secret = "s" * 40
    v = Verifier("https://auth.example.com", AUD, secret_key=secret, now=clock)
    claims = {"iss": "https://auth.example.com", "aud": AUD, "sub": "alice", "iat": int(clock.t), "exp": int(clock.t) + 60, "scope": "orders:read"}
    assert v.verify(jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "at+jwt"})).sub == "alice"
    # Warden before RFC 9068 typ: a typ JWT token is refused (an id_token looks the same).
    assert refusal(v, jwt.encode(claims, secret, algorithm="HS256")).description == "not an access token (RFC 9068 typ at+jwt)"
    assert refusal(v, jwt.encode(claims, "t" * 40, algorithm="HS256", headers={"typ": "at+jwt"})).description == "the access token signature is invalid"
    with pytest.raises(ValueError):
        Verifier("https://auth.example.com", AUD, secret_key="short")


class TestIntrospection:
    def test_asks_warden_on_every_request_so_a_revocation_shows_at_once(self, idp, clock):
        idp.clients["svc:orders"] = "sécret"
        v = Verifier(idp.url, AUD, now=clock, introspection=Introspection("svc:orders", "sécret"))
        token = idp.token(idp.keys[0], clock.t, claims={"jti": "a"})
        idp.active.add("a")
        before = idp.introspections
        assert v.verify(token).sub == "user-1"
        assert v.verify(token).sub == "user-1"
        assert idp.introspections - before == 2
        idp.active.discard("a")
        assert refusal(v, token).description == "the access token is no longer active"

    def test_cache_seconds(self, idp, clock):
        idp.clients["svc:orders"] = "sécret"
        v = Verifier(idp.url, AUD, now=clock, introspection=Introspection("svc:orders", "sécret", cache_seconds=5))
        token = idp.token(idp.keys[0], clock.t, claims={"jti": "b"})
        idp.active.add("b")
        before = idp.introspections
        v.verify(token)
        idp.active.discard("b")
        clock.t += 4.999
        assert v.verify(token).sub == "user-1"
        assert idp.introspections - before == 1
        clock.t += 0.001
        refusal(v, token)
        assert idp.introspections - before == 2

    def test_wrong_client_credentials_are_the_servers_fault(self, idp, clock):
        v = Verifier(idp.url, AUD, now=clock, introspection=Introspection("svc:orders", "wrong"))
        with pytest.raises(WardenUnavailable):
            v.verify(idp.token(idp.keys[0], clock.t))
