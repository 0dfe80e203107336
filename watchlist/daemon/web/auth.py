"""Who may use the web page: the token by a login cookie or a bearer header, and CSRF tokens.

With ``server.token`` unset (the loader allows that only on loopback) every request
is let in. With it set, a request needs the cookie the login form sets (HttpOnly,
SameSite=Strict; its value is an HMAC of the token, never the token itself) or
``Authorization: Bearer TOKEN``. Every POST from a browser carries a CSRF token
(an HMAC of the session under a key made at start) in its form; bearer requests
need none, since a browser cannot send that header across sites.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

COOKIE = "watchlist_session"


class Auth:
    """The checks for one token (empty: open, loopback only)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._key = secrets.token_bytes(32)
        self.session = (
            hmac.new(token.encode(), b"watchlist-web-session", hashlib.sha256).hexdigest()
            if token
            else ""
        )

    def bearer(self, request: Request) -> bool:
        """Whether the request carries ``Authorization: Bearer TOKEN``."""
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return bool(self.token) and scheme.lower() == "bearer" and _same(value.strip(), self.token)

    def allowed(self, request: Request) -> bool:
        """Whether the request may see and act on the page."""
        if not self.token:
            return True
        return self.bearer(request) or _same(request.cookies.get(COOKIE, ""), self.session)

    def login(self, given: str) -> bool:
        """Whether ``given`` is the token."""
        return bool(self.token) and _same(given, self.token)

    def csrf(self, request: Request) -> str:
        """The CSRF token for forms on this request's pages."""
        session = request.cookies.get(COOKIE, "") if self.token else "open"
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, request: Request, given: str) -> bool:
        """Whether a POST's form token is right (bearer requests need none)."""
        return self.bearer(request) or _same(given, self.csrf(request))


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))
