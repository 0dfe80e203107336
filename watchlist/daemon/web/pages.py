"""The page handlers: overview, alerts, one alert's article, rules, mutes, outbox.

Each takes the request and its (CSRF-checked) form and returns a response; the
guard in ``watchlist.daemon.web`` has already checked the login. Every value shown
that could hold a secret (errors, URLs) goes through ``logs.mask``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from watchlist.config.durations import parse_duration
from watchlist.daemon.logs import mask
from watchlist.daemon.web import WebContext, render
from watchlist.daemon.web.highlight import field_spans, highlight
from watchlist.delivery.describe import describe
from watchlist.match import explain
from watchlist.match.examples import run_examples
from watchlist.models import Article, Config
from watchlist.store.mutes import MuteError

Route = tuple[str, Callable[[Request, dict[str, str]], Response], list[str]]
PAGE = 50  # alerts per page
SHOWN_ROWS = 200  # outbox rows per page


def _state(alert: dict[str, Any]) -> str:
    """An alert's state in words: muted, or where its deliveries stand."""
    if alert.get("muted"):
        return f"muted by #{alert['muted']}"
    states = [d["status"] for d in alert["deliveries"]]
    if not states:
        return "no channels"
    if any(d["status"] == "pending" and d["held_reason"] for d in alert["deliveries"]):
        return "held"
    for word in ("failed", "sending", "pending"):
        if word in states:
            return word
    return "sent" if all(s == "sent" for s in states) else "/".join(sorted(set(states)))


def _where(origin: str, config: Config) -> str:
    """A rule's ``path:line``, the path relative to config.yaml's folder where it is inside."""
    base = str(Path(config.path).parent) + os.sep
    return origin[len(base) :] if origin.startswith(base) else origin


def _alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for a in alerts:
        a["state"] = _state(a)
        a["url"] = mask(a["url"])
    return alerts


def routes(ctx: WebContext) -> list[Route]:
    """The (path, handler, methods) of every page here."""
    store = ctx.store

    def overview(request: Request, form: dict[str, str]) -> Response:
        config, now = ctx.config(), ctx.now()
        polls = ctx.next_polls()
        sources = []
        for s in config.sources:
            st = store.load_source_state(s.name)
            nxt = polls.get(s.name)
            if st.next_poll and (nxt is None or st.next_poll > nxt):
                nxt = st.next_poll
            health = "off" if not s.enabled else "failing" if st.failures else "ok"
            if health == "ok" and st.last_poll is None and s.type != "http":
                health = "not polled yet"
            sources.append(
                {
                    "name": s.name,
                    "type": s.type,
                    "health": health,
                    "last_poll": st.last_poll,
                    "last_success": st.last_success,
                    "next_poll": nxt if s.type != "http" else None,
                    "error": mask(st.last_error) if st.failures else "",
                    "failures": st.failures,
                    "articles": st.articles,
                }
            )
        return render(
            ctx,
            request,
            "overview.html",
            sources=sources,
            counts=store.summary(),
            reload=ctx.last_reload(),
            alerts=_alerts(store.alerts_page(10)),
            mutes=len(store.mutes(now)),
            rules=len(config.rules),
        )

    def alerts(request: Request, form: dict[str, str]) -> Response:
        q = request.query_params
        before = int(q["before"]) if q.get("before", "").isdigit() else None
        rule = q.get("rule", "")
        rows = _alerts(store.alerts_page(PAGE, before=before, rule=rule or None))
        older = rows[-1]["id"] if len(rows) == PAGE else None
        return render(
            ctx, request, "alerts.html", alerts=rows, rule=rule, older=older, live=before is None
        )

    def alert(request: Request, form: dict[str, str]) -> Response:
        alert_id = int(request.path_params["id"])
        row = store.alert(alert_id)
        if row is None:
            return render(ctx, request, "message.html", 404, text=f"no alert #{alert_id}")
        row["state"] = _state(row)
        archived = store.archived_article(row["source"], row["article_id"])
        article = archived or Article(
            id=row["article_id"], title=row["title"], summary=row["summary"], url=row["url"]
        )
        config = ctx.config()
        explains = []
        for name in store.rules_for_article(row["article_id"]) or [row["rule"]]:
            try:
                rule = config.rule(name)
            except KeyError:
                explains.append((name, "this rule is no longer in force"))
                continue
            explains.append((name, str(explain(rule, article))))
        hits = row["hits"]
        return render(
            ctx,
            request,
            "alert.html",
            a=row,
            url=mask(row["url"]),
            title=highlight(row["title"], field_spans(hits, "title")),
            summary=highlight(article.summary, field_spans(hits, "summary")),
            body=highlight(article.body, field_spans(hits, "body")) if archived else None,
            body_hits=[h for h in hits if h.get("field") == "body"],
            snippet=row["snippet"],
            explains=explains,
        )

    examples_of: list[tuple[Config, dict[str, str]]] = []  # run once per config in force

    def examples(config: Config) -> dict[str, str]:
        """Per rule with examples: "3 of 3 pass", or the failures (``check``'s words)."""
        if not examples_of or examples_of[0][0] is not config:
            failures: dict[str, list[str]] = {}
            for f in run_examples(config.rules):
                failures.setdefault(f.rule, []).append(str(f))
            examples_of[:] = [
                (
                    config,
                    {
                        r.name: (
                            "; ".join(failures[r.name])
                            if r.name in failures
                            else f"{len(r.examples)} of {len(r.examples)} pass"
                        )
                        for r in config.rules
                        if r.examples
                    },
                )
            ]
        return examples_of[0][1]

    def rules(request: Request, form: dict[str, str]) -> Response:
        config, now = ctx.config(), ctx.now()
        stats = store.rule_stats([r.name for r in config.rules], now)
        mutes: dict[str, list[Any]] = {}
        for m in store.mutes(now):
            mutes.setdefault(m.rule, []).append(m)
        return render(
            ctx,
            request,
            "rules.html",
            rules=config.rules,
            where={r.name: _where(r.origin, config) for r in config.rules},
            stats=stats,
            mutes=mutes,
            examples=examples(config),
        )

    def mutes_page(
        request: Request, form: dict[str, str], error: str = "", status: int = 200
    ) -> Response:
        now = ctx.now()
        everything = request.query_params.get("all") == "1"
        rows = store.mutes(now, everything=everything)
        q = request.query_params
        values = {
            "rule": form.get("rule", q.get("rule", "")),
            "story": form.get("story", q.get("story", "")),
            "duration": form.get("duration", "1h"),
            "comment": form.get("comment", ""),
        }
        return render(
            ctx,
            request,
            "mutes.html",
            status,
            mutes=rows,
            silenced=store.muted_counts([m.id for m in rows]),
            rule_names=[r.name for r in ctx.config().rules],
            everything=everything,
            error=error,
            form=values,
        )

    def mute_add(request: Request, form: dict[str, str]) -> Response:
        now = ctx.now()
        rule = form.get("rule", "")
        if rule not in {r.name for r in ctx.config().rules}:
            return mutes_page(request, form, f"no rule {rule!r} in force", 400)
        story_text = form.get("story", "").strip().lstrip("#")
        if story_text and not story_text.isdigit():
            return mutes_page(request, form, "story: give the alert's number, such as 12", 400)
        try:
            length = parse_duration(form.get("duration", ""))
            mute = store.add_mute(
                rule,
                now + length,
                form.get("comment", ""),
                now,
                story=int(story_text) if story_text else None,
            )
        except (ValueError, MuteError) as exc:
            return mutes_page(request, form, str(exc), 400)
        return RedirectResponse(f"/mutes?done=muted-{mute.id}", status_code=303)

    def mute_remove(request: Request, form: dict[str, str]) -> Response:
        mute_id = int(request.path_params["id"])
        if not store.unmute(mute_id, ctx.now()):
            return mutes_page(request, {}, f"no mute #{mute_id} in force", 404)
        return RedirectResponse(f"/mutes?done=unmuted-{mute_id}", status_code=303)

    def outbox(
        request: Request, form: dict[str, str], error: str = "", status: int = 200
    ) -> Response:
        now = ctx.now()
        rows, total = store.open_rows(SHOWN_ROWS)
        shown = [{"row": r, "why": mask(describe(r, now)), "url": mask(r.url)} for r in rows]
        return render(ctx, request, "outbox.html", status, rows=shown, total=total, error=error)

    def outbox_act(request: Request, form: dict[str, str]) -> Response:
        row_id, action = int(request.path_params["id"]), request.path_params["action"]
        if action not in ("retry", "drop"):
            return render(ctx, request, "message.html", 404, text="unknown action")
        now = ctx.now()
        ok = store.retry(row_id, now) if action == "retry" else store.drop(row_id, now)
        if not ok:
            return outbox(request, {}, f"row #{row_id} cannot be {action}ed now", 409)
        if action == "retry":
            ctx.wake_outbox()
        return RedirectResponse(f"/outbox?done={action}-{row_id}", status_code=303)

    return [
        ("/", overview, ["GET"]),
        ("/alerts", alerts, ["GET"]),
        ("/alerts/{id:int}", alert, ["GET"]),
        ("/rules", rules, ["GET"]),
        ("/mutes", mutes_page, ["GET"]),
        ("/mutes/add", mute_add, ["POST"]),
        ("/mutes/{id:int}/remove", mute_remove, ["POST"]),
        ("/outbox", outbox, ["GET"]),
        ("/outbox/{id:int}/{action:str}", outbox_act, ["POST"]),
    ]
