"""The web page: overview, alerts, article view, rules, rule tester, mutes and outbox.

Server-rendered with Jinja2 (autoescaped) on the daemon's starlette server
(``watchlist.daemon.server``); one small script and one stylesheet, served from
``static/``, poll the live part of a page every few seconds. No CDN, no build step.
Rules stay in files: the page reads them and never writes them. ``web_routes(ctx)``
gives the routes; ``WebContext`` is what the page needs of the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from watchlist.config.loader import is_loopback
from watchlist.daemon.reload_status import ReloadStatus, read_reload_status
from watchlist.daemon.web.auth import COOKIE, Auth
from watchlist.models import Article, Config
from watchlist.store import Store

HERE = Path(__file__).parent
MAX_FORM = 256 * 1024  # bytes: the biggest form the page accepts (the tester's text)
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    """What the page reads and does: the store, the config in force, the daemon's hooks."""

    store: Store
    config: Callable[[], Config]  # the config in force (a reload swaps it)
    token: str = ""
    now: Callable[[], datetime] = _utcnow
    next_polls: Callable[[], dict[str, datetime | None]] = dict
    wake_outbox: Callable[[], None] = lambda: None
    reload_status: Callable[[], ReloadStatus | None] | None = None
    # the articles the rule tester runs over: archived ones since a time
    articles: Callable[[datetime], Iterable[Article]] | None = None
    auth: Auth = field(init=False)

    def __post_init__(self) -> None:
        self.auth = Auth(self.token)

    def last_reload(self) -> ReloadStatus | None:
        """The last reload's outcome (from the daemon, else from the state's file)."""
        if self.reload_status is not None:
            return self.reload_status()
        return read_reload_status(self.config().state)


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    delta = (now - when).total_seconds()
    future, secs = delta < 0, int(abs(delta))
    if secs >= 86400:
        text = f"{secs // 86400}d" + (f" {secs % 86400 // 3600}h" if secs % 86400 >= 3600 else "")
    elif secs >= 3600:
        text = f"{secs // 3600}h" + (f" {secs % 3600 // 60}m" if secs % 3600 >= 60 else "")
    elif secs >= 60:
        text = f"{secs // 60}m"
    else:
        text = f"{secs}s"
    return f"in {text}" if future else f"{text} ago"


_ENV.filters["when"] = lambda t: "-" if t is None else f"{t:%Y-%m-%d %H:%M:%S} UTC"


def render(
    ctx: WebContext, request: Request, name: str, status: int = 200, **values: Any
) -> Response:
    """Render template ``name`` (only its ``live`` block when the page's script polls)."""
    now = ctx.now()
    values = {
        "csrf": ctx.auth.csrf(request),
        "login": bool(ctx.token),
        "now": now,
        "ago": lambda t: _ago(t, now),
        "path": request.url.path,
        "done": _done(request.query_params.get("done", "")),
        **values,
    }
    template = _ENV.get_template(name)
    if request.headers.get("x-live") == "1" and "live" in template.blocks:
        body = "".join(template.blocks["live"](template.new_context(values)))
    else:
        body = template.render(values)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


DONE = {
    "muted": "Mute #{n} is in force: its matches are recorded and shown as muted, not sent.",
    "unmuted": "Mute #{n} removed: new matches are sent again; those it silenced are not resent.",
    "retry": "Outbox row #{n} is due now; the daemon sends it on its next outbox run.",
    "drop": "Outbox row #{n} dropped: it stays on record and will not be sent.",
}


def _done(code: str) -> str:
    """The fixed message for a ``?done=word-N`` after a form (never text from the URL)."""
    word, _, n = code.rpartition("-")
    return DONE[word].format(n=int(n)) if word in DONE and n.isdigit() else ""


Handler = Callable[[Request, dict[str, str]], Response]


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def guarded(ctx: WebContext, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint: login required (if a token is set), CSRF on POST, work off the loop."""

    async def endpoint(request: Request) -> Response:
        if not ctx.token and not is_loopback(request.url.hostname or ""):
            # open only on loopback: a page reached by another name (DNS rebinding) is refused
            return Response(
                "this page answers only as 127.0.0.1 or localhost unless server.token is set",
                status_code=403,
                headers=SECURITY_HEADERS,
            )
        if not ctx.auth.allowed(request):
            if request.method == "GET":
                target = quote(
                    request.url.path + ("?" + request.url.query if request.url.query else "")
                )
                return RedirectResponse(f"/login?next={target}", status_code=303)
            return Response("log in first", status_code=401, headers=SECURITY_HEADERS)
        form: dict[str, str] = {}
        if request.method == "POST":
            body = await request.body()
            if len(body) > MAX_FORM:
                return Response("form too large", status_code=413, headers=SECURITY_HEADERS)
            form = _form(body)
            if not ctx.auth.csrf_ok(request, form.get("csrf", "")):
                return Response(
                    "this form has expired (the daemon restarted or you logged in again):"
                    " reload the page and try again",
                    status_code=403,
                    headers=SECURITY_HEADERS,
                )
        return await run_in_threadpool(handler, request, form)

    return endpoint


def _login_routes(ctx: WebContext) -> list[BaseRoute]:
    async def login(request: Request) -> Response:
        target = request.query_params.get("next", "/")
        if not target.startswith("/") or target.startswith(("//", "/\\")):
            target = "/"
        if request.method == "GET":
            return render(ctx, request, "login.html", target=target, error="")
        form = _form((await request.body())[:MAX_FORM])
        if not ctx.auth.csrf_ok(request, form.get("csrf", "")):
            return render(
                ctx, request, "login.html", 403, target=target, error="form expired; try again"
            )
        if not ctx.auth.login(form.get("token", "")):
            await asyncio.sleep(0.5)  # slows guessing
            return render(ctx, request, "login.html", 401, target=target, error="wrong token")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE, ctx.auth.session, max_age=30 * 86400, httponly=True, samesite="strict"
        )
        return response

    def logout(request: Request, form: dict[str, str]) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, httponly=True, samesite="strict")
        return response

    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", guarded(ctx, logout), methods=["POST"]),
    ]


def web_routes(ctx: WebContext) -> list[BaseRoute]:
    """Every route of the page, to add to the daemon's server."""
    from watchlist.daemon.web import pages, tester

    routes = _login_routes(ctx)
    for path, handler, methods in [*pages.routes(ctx), *tester.routes(ctx)]:
        routes.append(Route(path, guarded(ctx, handler), methods=methods))
    routes.append(Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    return routes


__all__ = ["WebContext", "render", "web_routes"]
