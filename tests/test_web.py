"""The web page in process (test client): login, CSRF, escaping, mutes, outbox, tester."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from watchlist.config.loader import load_config
from watchlist.daemon.web import WebContext, web_routes
from watchlist.daemon.web.highlight import highlight, rule_yaml
from watchlist.daemon.web.tester import parse_rule
from watchlist.match import build_matcher
from watchlist.models import Article, Config
from watchlist.store import Store, open_store

TOKEN = "web-token-Zx81"
SECRET = "hunter2hunter2"
XSS = "<script>alert(1)</script> Acme files for IPO"
RULES = """\
rules:
  - name: acme
    description: Acme news
    companies: [Acme]
    notify: [hook]
  - name: star
    keywords: [IPO]
"""


def write_config(tmp: Path, token: str = TOKEN) -> Path:
    """A config with two rules, a failing channel whose URL holds a secret, and the server."""
    (tmp / "rules").mkdir(exist_ok=True)
    (tmp / "rules" / "r.yaml").write_text(RULES)
    cfg = tmp / "config.yaml"
    server = f"server:\n  listen: 127.0.0.1:9100\n  token: {token}\n" if token else ""
    cfg.write_text(
        "state: state.db\nrules: rules/\n"
        f"channels:\n  hook: json://user:{SECRET}@127.0.0.1:9/\n"
        "sources:\n  - name: wire\n    type: folder\n    path: inbox\n" + server
    )
    return cfg


def record(
    store: Store, config: Config, n: int, title: str = XSS, summary: str = "Acme Corp said so."
) -> None:
    """Match one article through the real matcher and record it."""
    a = Article(id=f"a{n}", title=title, summary=summary, url=f"https://e.x/{n}", source="wire")
    store.record([a], build_matcher(config.rules).match(a), config, datetime.now(UTC))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Store, Config]]:
    config = load_config(write_config(tmp_path))
    store = open_store(config.state)
    ctx = WebContext(store=store, config=lambda: config, token=TOKEN)
    with TestClient(Starlette(routes=web_routes(ctx)), base_url="http://127.0.0.1") as client:
        yield client, store, config
    store.close()


def login(client: TestClient) -> None:
    """Log in through the form."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    r = client.post("/login", data={"token": TOKEN, "csrf": csrf[1]}, follow_redirects=False)
    assert r.status_code == 303


def csrf_of(client: TestClient, path: str) -> str:
    """The CSRF token in the forms of ``path``."""
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text)
    assert m is not None
    return m[1]


def test_pages_need_login_and_cookie_is_httponly_strict(
    site: tuple[TestClient, Store, Config],
) -> None:
    """Without the token a page redirects to the login form; the cookie is HttpOnly, Strict."""
    client, _, _ = site
    r = client.get("/rules", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/rules"
    assert client.post("/mutes/add", data={}).status_code == 401
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    bad = client.post("/login", data={"token": "nope", "csrf": csrf[1]})
    assert bad.status_code == 401 and "wrong token" in bad.text
    r = client.post(
        "/login?next=/rules", data={"token": TOKEN, "csrf": csrf[1]}, follow_redirects=False
    )
    assert r.headers["location"] == "/rules"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN.lower() not in cookie
    assert client.get("/rules").status_code == 200


def test_bearer_header_works_without_csrf(site: tuple[TestClient, Store, Config]) -> None:
    """Scripts use Authorization: Bearer; a wrong token is refused."""
    client, store, _ = site
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.get("/", headers=auth).status_code == 200
    r = client.post(
        "/mutes/add",
        data={"rule": "acme", "duration": "2h", "comment": "from a script"},
        headers=auth,
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [m.comment for m in store.mutes(datetime.now(UTC))] == ["from a script"]
    assert (
        client.get(
            "/", headers={"Authorization": "Bearer wrong"}, follow_redirects=False
        ).status_code
        == 303
    )


def test_post_without_csrf_is_refused(site: tuple[TestClient, Store, Config]) -> None:
    """A logged-in POST without the form's CSRF token changes nothing."""
    client, store, _ = site
    login(client)
    r = client.post("/mutes/add", data={"rule": "acme", "duration": "2h", "comment": "x"})
    assert r.status_code == 403 and "reload the page" in r.text
    r = client.post(
        "/mutes/add", data={"rule": "acme", "duration": "2h", "comment": "x", "csrf": "0" * 64}
    )
    assert r.status_code == 403
    assert store.mutes(datetime.now(UTC)) == []


def test_script_title_is_escaped_everywhere(site: tuple[TestClient, Store, Config]) -> None:
    """An article titled <script>alert(1)</script> is shown as text on every page."""
    client, store, config = site
    record(store, config, 1)
    login(client)
    for path in ("/", "/alerts", "/alerts/1", "/outbox", "/rules", "/mutes"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "<script>alert" not in r.text, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Acme</mark> files"
        in client.get("/alerts/1").text
    )


def test_no_secret_on_any_page(site: tuple[TestClient, Store, Config]) -> None:
    """The channel password and the token never appear, even in a failed row's error."""
    client, store, config = site
    record(store, config, 1)
    [row] = store.outbox_rows(ids=[1])
    store.update_rows(
        [row.id], status="failed", last_error=f"json://user:{SECRET}@127.0.0.1:9/ refused"
    )
    login(client)
    for path in ("/", "/alerts", "/alerts/1", "/outbox", "/rules", "/mutes", "/tester"):
        text = client.get(path).text
        assert SECRET not in text and TOKEN not in text, path


def test_mute_form_and_muted_alert(site: tuple[TestClient, Store, Config]) -> None:
    """A mute added on the page silences the rule: the next alert shows as muted, no outbox row."""
    client, store, config = site
    login(client)
    csrf = csrf_of(client, "/mutes")
    r = client.post(
        "/mutes/add", data={"rule": "acme", "duration": "2h", "comment": "", "csrf": csrf}
    )
    assert r.status_code == 400 and "needs a comment" in r.text
    r = client.post(
        "/mutes/add", data={"rule": "acme", "duration": "2h", "comment": "earnings", "csrf": csrf}
    )
    assert "Mute #1 is in force" in r.text and "earnings" in r.text
    assert "does not resend" in r.text
    record(store, config, 2, title="Acme opens a plant")
    assert "muted by #1" in client.get("/alerts").text
    assert store.outbox_rows() == []
    assert "#1 muted until" in client.get("/rules").text
    r = client.post("/mutes/1/remove", data={"csrf": csrf})
    assert "Mute #1 removed" in r.text and store.mutes(datetime.now(UTC)) == []


def test_outbox_retry_and_drop(site: tuple[TestClient, Store, Config]) -> None:
    """Retry makes a failed row pending and due; drop gives a row up."""
    client, store, config = site
    record(store, config, 1)
    [row] = store.outbox_rows(ids=[1])
    store.update_rows([row.id], status="failed", last_error="connection refused")
    login(client)
    csrf = csrf_of(client, "/outbox")
    r = client.post(f"/outbox/{row.id}/retry", data={"csrf": csrf})
    assert f"row #{row.id} is due now" in r.text
    assert store.outbox_rows(ids=[row.id])[0].status == "pending"
    client.post(f"/outbox/{row.id}/drop", data={"csrf": csrf})
    assert store.outbox_rows(ids=[row.id])[0].status == "dropped"
    r = client.post(f"/outbox/{row.id}/drop", data={"csrf": csrf})
    assert r.status_code == 409


def test_live_block_only(site: tuple[TestClient, Store, Config]) -> None:
    """The page's poll gets only the live part, with the newest alerts."""
    client, store, config = site
    login(client)
    record(store, config, 1, title="Acme news one")
    r = client.get("/alerts", headers={"X-Live": "1"})
    assert "Acme news one" in r.text and "<html" not in r.text


def test_tester_prefills_runs_and_diffs(site: tuple[TestClient, Store, Config]) -> None:
    """The tester loads a rule's YAML, runs an edit over recent articles and shows the diff."""
    client, store, config = site
    record(store, config, 1, title="Acme files for IPO", summary="")
    record(store, config, 2, title="Globex files for IPO", summary="")
    login(client)
    page = client.get("/tester?rule=acme")
    assert "name: acme\ndescription: Acme news\ncompanies: [Acme]" in page.text
    csrf = csrf_of(client, "/tester")
    text = "name: acme\ncompanies: [Globex]\n"
    r = client.post("/tester", data={"csrf": csrf, "rule": "acme", "text": text, "days": "7"})
    assert r.status_code == 200
    assert "1 added" in r.text and "1 dropped" in r.text
    assert "<mark>Globex</mark> files for IPO" in r.text


def test_tester_errors_in_text_area_terms(site: tuple[TestClient, Store, Config]) -> None:
    """A bad rule's errors read line:column of the text area, with the loader's message."""
    client, _, _ = site
    login(client)
    csrf = csrf_of(client, "/tester")
    text = "name: acme\ncompanies: [Acme]\nnotify: [nowhere]\ncolour: red\n"
    r = client.post("/tester", data={"csrf": csrf, "rule": "acme", "text": text})
    assert r.status_code == 400
    assert 'data-line="3" data-col="10">3:10</a>: unknown channel' in r.text
    assert 'data-line="4" data-col="1">4:1</a>: unknown key &#39;colour&#39;' in r.text


def test_open_page_on_loopback_without_token(tmp_path: Path) -> None:
    """Without server.token (loopback only) the page needs no login, but POSTs still need CSRF."""
    config = load_config(write_config(tmp_path, token=""))
    store = open_store(config.state)
    client = TestClient(
        Starlette(routes=web_routes(WebContext(store=store, config=lambda: config))),
        base_url="http://127.0.0.1",
    )
    assert client.get("/").status_code == 200
    assert client.post("/mutes/add", data={"rule": "acme"}).status_code == 403
    store.close()


def test_highlight_escapes_and_merges() -> None:
    """Hits are wrapped in <mark>, overlapping spans merged, everything else escaped."""
    assert str(highlight("<b>Acme & co</b>", [(3, 7), (5, 9)])) == (
        "&lt;b&gt;<mark>Acme &amp;</mark> co&lt;/b&gt;"
    )


def test_rule_yaml_cuts_one_rule(tmp_path: Path) -> None:
    """The tester's prefill is the rule's own lines, dedented, and it parses back to the rule."""
    config = load_config(write_config(tmp_path))
    assert rule_yaml(config.rule("star").origin) == "name: star\nkeywords: [IPO]\n"
    rule, errors = parse_rule(rule_yaml(config.rule("acme").origin), config)
    assert errors == [] and rule is not None
    assert rule.companies == config.rule("acme").companies and rule.notify == ("hook",)
    assert rule_yaml(f"{tmp_path}/missing.yaml:3") == ""


def test_mute_story_from_alert_page(site: tuple[TestClient, Store, Config]) -> None:
    """The alert page links to a story mute; a story of another rule is refused."""
    client, store, config = site
    record(store, config, 1, title="Acme files for IPO")
    login(client)
    assert "/mutes?rule=acme&amp;story=1" in client.get("/alerts/1").text
    csrf = csrf_of(client, "/mutes")
    stars = [a["id"] for a in store.alerts_page() if a["rule"] == "star"]
    r = client.post(
        "/mutes/add",
        data={
            "rule": "acme",
            "story": str(stars[0]),
            "duration": "1d",
            "comment": "x",
            "csrf": csrf,
        },
    )
    assert r.status_code == 400 and "of rule &#39;star&#39;" in r.text
    r = client.post(
        "/mutes/add",
        data={"rule": "acme", "story": "#1", "duration": "1d", "comment": "x", "csrf": csrf},
    )
    assert "alert #1" in r.text
    [mute] = store.mutes(datetime.now(UTC) + timedelta(hours=1))
    assert mute.story == 1


def test_alert_view_shows_archived_body_highlighted(site: tuple[TestClient, Store, Config]) -> None:
    """With the archive on, the article view shows the whole body with its hits marked."""
    client, store, config = site
    a = Article(
        id="b1", title="Results", body="Shares rose.\nAcme <b>beat</b> forecasts.", source="wire"
    )
    store.record([a], build_matcher(config.rules).match(a), config, datetime.now(UTC))
    login(client)
    text = client.get("/alerts/1").text
    assert '<div class="body">Shares rose.\n<mark>Acme</mark> &lt;b&gt;beat&lt;/b&gt;' in text
    assert "not in the archive" not in text


def test_rules_page_shows_examples_passing_and_failing(tmp_path: Path) -> None:
    """The examples column says how many pass, or which fail and why."""
    write_config(tmp_path, token="")
    (tmp_path / "rules" / "r.yaml").write_text(
        "- name: acme\n  companies: [Acme]\n  examples:\n    match:\n      - title: Acme wins\n"
        "- name: star\n  keywords: [IPO]\n  examples:\n    match:\n      - title: No listing\n"
    )
    config = load_config(tmp_path / "config.yaml")
    store = open_store(config.state)
    client = TestClient(
        Starlette(routes=web_routes(WebContext(store=store, config=lambda: config))),
        base_url="http://127.0.0.1",
    )
    text = client.get("/rules").text
    assert "1 of 1 pass" in text
    assert "example 1 of rule star should match but did not" in text
    store.close()


def test_daemon_refuses_to_listen_beyond_loopback_without_token(tmp_path: Path) -> None:
    """`watchlist run` with server.listen on 0.0.0.0 and no token exits 1 naming the fix."""
    import subprocess
    import sys

    cfg = write_config(tmp_path, token="")
    cfg.write_text(cfg.read_text() + "server:\n  listen: 0.0.0.0:9100\n")
    done = subprocess.run(
        [sys.executable, "-m", "watchlist", "run", "-c", str(cfg), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "server listens on 0.0.0.0, beyond this machine, without a token" in done.stderr
    assert "set server.token" in done.stderr


def test_open_page_refuses_other_host_names(tmp_path: Path) -> None:
    """Without a token the page answers only to loopback names (no DNS rebinding)."""
    config = load_config(write_config(tmp_path, token=""))
    store = open_store(config.state)
    app = Starlette(routes=web_routes(WebContext(store=store, config=lambda: config)))
    assert TestClient(app, base_url="http://localhost:9100").get("/").status_code == 200
    r = TestClient(app, base_url="http://evil.example:9100").get("/")
    assert r.status_code == 403 and "server.token" in r.text
    store.close()


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_login_never_redirects_off_site(
    site: tuple[TestClient, Store, Config], target: str
) -> None:
    """The login form's next= only leads to a path on this page."""
    client, _, _ = site
    csrf = csrf_of(client, "/login")
    r = client.post(
        "/login",
        params={"next": target},
        data={"token": TOKEN, "csrf": csrf},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_tester_reads_watchlists_and_defaults_of_the_rule_files(tmp_path: Path) -> None:
    """A tested rule may name a watchlist from the rule files and inherits config defaults."""
    write_config(tmp_path)
    (tmp_path / "rules" / "lists.yaml").write_text("watchlists:\n  labs: [OpenAI, Anthropic]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(cfg.read_text() + "defaults:\n  threshold: 93\n")
    config = load_config(cfg)
    rule, errors = parse_rule("name: labs\ncompanies: labs\n", config)
    assert errors == [] and rule is not None
    assert [e.name for e in rule.companies] == ["OpenAI", "Anthropic"] and rule.threshold == 93
    rule, errors = parse_rule("name: labs\ncompanies: lab\n", config)
    assert rule is None and errors == [(2, 12, "unknown watchlist 'lab' (did you mean 'labs'?)")]
