"""Sources users expect: OPML import, JSON Feed, a proxy from the environment, source headers."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from localserver import LocalServer, Route

from watchlist.cli import main
from watchlist.config.loader import load_config
from watchlist.models import SourceState
from watchlist.sources import env_proxies, make_client, make_source
from watchlist.sources.fetch import fetch
from watchlist.sources.parse import parse_bytes

REPO = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("WATCHLIST_CORPORA") or REPO.parent / "shared" / "corpora")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Fusion start-up lists</title><link>https://n.example/1</link></item>"
    "</channel></rss>"
)
OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="Tech">
    <outline type="rss" text="Ars Technica" xmlUrl="https://ars.example/feed"/>
    <outline type="rss" text="Ars Technica" xmlUrl="https://ars.example/other"/>
  </outline>
  <outline type="rss" text="Star News" xmlUrl="https://star.example/rss.xml"/>
  <outline text="a folder without a feed"/>
</body></opml>
"""
JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Feed",
    "items": [
        {
            "id": "p1",
            "url": "https://n.example/p1",
            "title": "Fusion start-up raises funding",
            "content_html": "<p>Helion <b>raised</b> money.</p>",
            "date_published": "2026-11-30T08:00:00+08:00",
        },
        {"id": "p2", "content_text": "A note without a title.", "url": "https://n.example/p2"},
    ],
}


# ------------------------------------------------------------------ OPML


def test_import_opml_adds_sources_and_keeps_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """import-opml appends each feed as an rss source, keeps comments, skips ones present."""
    assert main(["init", str(tmp_path)]) == 0
    cfg = tmp_path / "config.yaml"
    before = cfg.read_text()
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML)
    capsys.readouterr()
    assert main(["import-opml", "-c", str(cfg), str(opml)]) == 0
    assert "added 3 sources: ars-technica, ars-technica-2, star-news" in capsys.readouterr().out
    text = cfg.read_text()
    assert text.startswith(before.split("sources:")[0])  # comments and keys above stay
    assert "# - name: my-feed" in text  # the starter's commented example stays
    config = load_config(cfg)
    rss = {s.name: s.url for s in config.sources if s.type == "rss"}
    assert rss == {
        "ars-technica": "https://ars.example/feed",
        "ars-technica-2": "https://ars.example/other",
        "star-news": "https://star.example/rss.xml",
    }
    assert config.sources[0].name == "inbox"
    assert main(["import-opml", "-c", str(cfg), str(opml)]) == 0
    assert "all 3 feeds are sources already; nothing added" in capsys.readouterr().out
    assert main(["check", "-c", str(cfg)]) == 0


def test_import_opml_without_sources_key_and_bad_opml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config without sources: gets one; a file with no feeds is an error naming it."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("state: ./s.db  # mine\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("- name: r\n  keywords: [x]\n")
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML)
    assert main(["import-opml", "-c", str(cfg), str(opml)]) == 0
    assert cfg.read_text().startswith("state: ./s.db  # mine\n")
    assert len(load_config(cfg).sources) == 3
    opml.write_text("<html>not opml</html>")
    assert main(["import-opml", "-c", str(cfg), str(opml)]) == 1
    assert "feeds.opml: no feeds" in capsys.readouterr().err


# ------------------------------------------------------------------ JSON Feed


def test_json_feed_items_become_articles() -> None:
    """A JSON Feed's items are articles: id, title, url, HTML body as text, published in UTC."""
    first, second = parse_bytes(json.dumps(JSON_FEED).encode(), name="f.json", source="s")
    assert first.title == "Fusion start-up raises funding" and first.url == "https://n.example/p1"
    assert "Helion raised money." in first.body and "<b>" not in first.body
    assert first.published == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert second.body == "A note without a title." and second.url == "https://n.example/p2"


def test_rss_source_reads_a_json_feed(http_server: LocalServer) -> None:
    """An rss source whose URL serves a JSON Feed reads it (not 'not an RSS or Atom feed')."""
    http_server.routes["/feed.json"] = Route(
        200, json.dumps(JSON_FEED), {"Content-Type": "application/feed+json"}
    )
    cfg = load_config_for(http_server.url("/feed.json"))
    res = make_source(cfg, make_client()).poll(SourceState(), NOW)
    assert res.state.failures == 0, res.state.last_error
    assert res.articles[0].title == "Fusion start-up raises funding"


def test_corpus_json_feed() -> None:
    """The feedparser corpus's JSON Feed gives its two entries."""
    path = CORPORA / "feedparser-tests" / "json" / "example.json"
    if not path.exists():
        pytest.skip(f"{path} not present (set WATCHLIST_CORPORA)")
    arts = parse_bytes(path.read_bytes(), name="example.json", source="s")
    assert [a.url for a in arts] == [
        "https://example.org/second-item",
        "https://example.org/initial-post",
    ]


def load_config_for(url: str, headers: str = "", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The one rss source of a config reading ``url`` (with a ``headers:`` block)."""
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "r.yaml").write_text("- name: r\n  keywords: [x]\n")
    (folder / "config.yaml").write_text(
        f"rules: r.yaml\nsources:\n  - name: feed\n    type: rss\n    url: {url}\n{headers}"
    )
    config = load_config(folder / "config.yaml", env=env or {})
    load_config_for.secrets = config.secrets  # type: ignore[attr-defined]
    return config.sources[0]


# ------------------------------------------------------------------ proxy, headers


def test_proxy_from_the_environment(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY sends fetches through the proxy; NO_PROXY hosts go direct."""
    http_server.routes["http://feeds.invalid/rss.xml"] = Route(200, RSS)
    http_server.routes["/direct.xml"] = Route(200, RSS)
    monkeypatch.setenv("HTTP_PROXY", http_server.base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert env_proxies()["http://"] == http_server.base
    with make_client() as client:
        got = fetch(client, "http://feeds.invalid/rss.xml", timeout=10)
        direct = fetch(client, http_server.url("/direct.xml"), timeout=10)
    assert got.status == 200 and b"Fusion start-up lists" in got.body
    assert direct.status == 200
    paths = [r.path for r in http_server.requests]
    assert paths == ["http://feeds.invalid/rss.xml", "/direct.xml"]  # proxied, then direct
    assert env_proxies({"https_proxy": "p:3128", "no_proxy": "localhost,.corp"}) == {
        "https://": "http://p:3128",
        "all://localhost": None,
        "all://*.corp": None,
    }
    assert env_proxies({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}) == {}


def test_source_headers_with_env_vars(http_server: LocalServer) -> None:
    """`headers:` with ${VAR} reach the feed's host, are secrets, and stop at another host."""
    other = LocalServer().start()
    try:
        other.routes["/moved.xml"] = Route(200, RSS)
        http_server.routes["/rss.xml"] = Route(200, RSS)
        http_server.routes["/redirect.xml"] = Route(302, b"", {"Location": other.url("/moved.xml")})
        block = "    headers:\n      Authorization: Bearer ${FEED_TOKEN}\n      Cookie: s=1\n"
        env = {"FEED_TOKEN": "tok-s3cret"}
        cfg = load_config_for(http_server.url("/rss.xml"), block, env)
        assert dict(cfg.headers) == {"Authorization": "Bearer tok-s3cret", "Cookie": "s=1"}
        assert "Bearer tok-s3cret" in load_config_for.secrets  # type: ignore[attr-defined]
        res = make_source(cfg, make_client()).poll(SourceState(), NOW)
        assert res.state.failures == 0 and len(res.articles) == 1
        (req,) = [r for r in http_server.requests if r.path == "/rss.xml"]
        assert (
            req.headers["Authorization"] == "Bearer tok-s3cret" and req.headers["Cookie"] == "s=1"
        )
        moved = load_config_for(http_server.url("/redirect.xml"), block, env)
        res = make_source(moved, make_client()).poll(SourceState(), NOW)
        assert res.state.failures == 0 and len(res.articles) == 1
        (req,) = other.requests
        assert "Authorization" not in req.headers and "Cookie" not in req.headers
    finally:
        other.stop()


def test_bad_headers_are_config_errors(tmp_path: Path) -> None:
    """A headers: that is not a mapping of names to one-line text is an error at its line."""
    from watchlist.config.errors import ConfigErrors

    (tmp_path / "r.yaml").write_text("- name: r\n  keywords: [x]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "rules: r.yaml\nsources:\n  - name: f\n    type: rss\n    url: https://x.example/f\n"
        "    headers:\n      Bad Name: x\n      X-List: [1]\n"
    )
    with pytest.raises(ConfigErrors) as info:
        load_config(cfg)
    messages = [str(e) for e in info.value.errors]
    assert any(":7:7: headers: 'Bad Name' is not an HTTP header name" in m for m in messages)
    assert any(":8:15: headers: X-List: expected text, found a list" in m for m in messages)
