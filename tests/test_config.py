"""config.yaml: every section read, paths resolved, ${VAR} substituted, every error exact."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from watchlist.config.errors import ConfigErrors
from watchlist.config.loader import load_config as load_config_unchecked
from watchlist.delivery import CONFIG_CHECKS
from watchlist.models import ChannelConfig, Config

RULE = "- name: r\n  keywords: [x]\n"

SPEC_CONFIG = """\
timezone: Asia/Shanghai
state: ./watchlist.db
rules: rules/
defaults:
  threshold: 80
  notify: [console]
  cooldown: 6h
sources:
  - name: star-market-news
    type: rss
    url: https://example.com/tech.xml
    every: 15m
  - name: inbox
    type: folder
    path: ./inbox
    every: 30s
  - name: ingest
    type: http
    listen: 127.0.0.1:8787
    token: ${WATCHLIST_INGEST_TOKEN}
channels:
  console: console://
  team-slack: slack://${SLACK_A}/${SLACK_B}/${SLACK_C}/#alerts
  email: mailtos://alerts:${SMTP_PASSWORD}@example.com?to=me@example.com
templates:
  title: "[{{ rule }}] {{ title }}"
  body: "{{ snippet }}\\n{{ url }}"
"""
ENV = {
    "WATCHLIST_INGEST_TOKEN": "tok-123456",
    "SLACK_A": "AAAA",
    "SLACK_B": "BBBB",
    "SLACK_C": "CCCC",
    "SMTP_PASSWORD": "hunter2hunter2",
}


def load_config(path: Path, env: Mapping[str, str] | None = None, **kw: Any) -> Config:
    """load_config with delivery's checks, as every command and the daemon call it."""
    return load_config_unchecked(path, env, checks=CONFIG_CHECKS, **kw)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path so error paths read as the user wrote them."""
    monkeypatch.chdir(tmp_path)


def setup(folder: Path, config: str, rules: str | None = RULE) -> Path:
    """Write config.yaml (and rules/r.yaml unless rules is None); return the config path."""
    if rules is not None:
        (folder / "rules").mkdir(exist_ok=True)
        (folder / "rules" / "r.yaml").write_text(rules, encoding="utf-8")
    path = folder / "config.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def config_errors(path: Path, env: dict[str, str] | None = None) -> list[str]:
    """The error lines load_config raises (fails when it raises none)."""
    with pytest.raises(ConfigErrors) as info:
        load_config(path, env=env or {})
    return [str(e) for e in info.value.errors]


def test_spec_example_loads(tmp_path: Path) -> None:
    """SPEC's config.yaml loads with secrets substituted and paths made absolute."""
    cfg = load_config(setup(tmp_path, SPEC_CONFIG), env=ENV)
    assert cfg.path == str(tmp_path / "config.yaml")
    assert cfg.timezone == "Asia/Shanghai"
    assert cfg.state == str(tmp_path / "watchlist.db")
    assert cfg.rules_path == "rules/"
    assert cfg.rule_files == (str(tmp_path / "rules" / "r.yaml"),)
    (rule,) = cfg.rules
    assert (rule.threshold, rule.notify, rule.cooldown) == (80.0, ("console",), timedelta(hours=6))
    rss, folder, http = cfg.sources
    assert (rss.url, rss.every) == ("https://example.com/tech.xml", timedelta(minutes=15))
    assert (folder.path, folder.every) == (str(tmp_path / "inbox"), timedelta(seconds=30))
    assert (http.listen, http.token) == ("127.0.0.1:8787", "tok-123456")
    assert cfg.channel("team-slack").urls == ("slack://AAAA/BBBB/CCCC/#alerts",)
    assert [c.name for c in cfg.channels] == ["console", "team-slack", "email"]
    assert cfg.templates.title == "[{{ rule }}] {{ title }}"
    assert cfg.templates.body == "{{ snippet }}\n{{ url }}"
    assert set(cfg.secrets) == set(ENV.values())


def test_minimal_config_gets_defaults_and_console(tmp_path: Path) -> None:
    """An empty config uses rules/, watchlist.db beside it, UTC, and a console channel."""
    cfg = load_config(setup(tmp_path, "# all defaults\n"), env={})
    assert (cfg.timezone, cfg.state) == ("UTC", str(tmp_path / "watchlist.db"))
    assert cfg.channels == (ChannelConfig("console", ("console://",)),)
    assert (cfg.delivery.retry_horizon, cfg.delivery.timeout) == (timedelta(hours=24), 30.0)
    assert (cfg.server.listen, cfg.logging.level, cfg.logging.format) == ("", "info", "text")
    assert cfg.secrets == ()


def test_optional_sections_and_channel_forms(tmp_path: Path) -> None:
    """Channels as text, list or mapping; delivery, server, logging and source options."""
    cfg = load_config(
        setup(
            tmp_path,
            "channels:\n"
            "  one: json://a\n"
            "  two: [json://b, json://c]\n"
            "  three: {urls: [json://d], rate_limit: 10/1m, format: markdown, concurrency: 2}\n"
            "  four: {url: json://e}\n"
            "delivery: {retry_horizon: 2d, timeout: 5}\n"
            "server: {listen: 127.0.0.1:9100}\n"
            "logging: {level: debug, format: json}\n"
            "sources:\n"
            "  - {name: f, type: rss, url: feeds/a.xml, timeout: 10s, max_bytes: 1MB,"
            " enabled: false}\n",
        ),
        env={},
    )
    assert cfg.channel("one").urls == ("json://a",)
    assert cfg.channel("two").urls == ("json://b", "json://c")
    three = cfg.channel("three")
    assert (three.urls, three.rate_limit, three.format) == (
        ("json://d",),
        (10, timedelta(minutes=1)),
        "markdown",
    )
    assert (three.concurrency, cfg.channel("four").concurrency) == (2, 8)
    assert cfg.channel("four").urls == ("json://e",)
    assert cfg.channel("console").urls == ("console://",)
    assert (cfg.delivery.retry_horizon, cfg.delivery.timeout) == (timedelta(days=2), 5.0)
    assert cfg.server.listen == "127.0.0.1:9100"
    assert (cfg.logging.level, cfg.logging.format) == ("debug", "json")
    (src,) = cfg.sources
    assert (src.url, src.timeout, src.max_bytes, src.enabled) == (
        str(tmp_path / "feeds" / "a.xml"),
        10.0,
        1024**2,
        False,
    )


@pytest.mark.parametrize(
    ("spec", "files"),
    [
        ("rules/", ["a.yaml", "b.yml"]),
        ("rules/b.yml", ["b.yml"]),
        ("rules/*.yaml", ["a.yaml"]),
    ],
)
def test_rules_file_folder_or_glob(tmp_path: Path, spec: str, files: list[str]) -> None:
    """rules: may name a file, a folder (every *.yaml/*.yml, sorted) or a glob."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "b.yml").write_text("- name: b\n  keywords: [x]\n")
    (tmp_path / "rules" / "a.yaml").write_text("- name: a\n  keywords: [x]\n")
    cfg = load_config(setup(tmp_path, f"rules: {spec}\n", rules=None), env={})
    assert cfg.rule_files == tuple(str(tmp_path / "rules" / f) for f in files)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ({"X": "abc"}, "json://${X}", "json://abc"),
        ({}, "json://${X:-dflt}", "json://dflt"),
        ({"X": "set"}, "json://${X:-dflt}", "json://set"),
        ({}, "json://$${X}", "json://${X}"),
        ({"A": "1", "B": "2"}, "json://${A}/${B}", "json://1/2"),
    ],
)
def test_env_interpolation(tmp_path: Path, env: dict[str, str], value: str, expected: str) -> None:
    """${VAR} takes the environment, ${VAR:-x} a default, and $${ is a literal ${."""
    cfg = load_config(setup(tmp_path, f"channels:\n  c: '{value}'\n"), env=env)
    assert cfg.channel("c").urls == (expected,)


def test_env_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without env=, variables come from os.environ."""
    monkeypatch.setenv("WL_TEST_CHANNEL", "json://from-env")
    cfg = load_config(setup(tmp_path, "channels:\n  c: ${WL_TEST_CHANNEL}\n"))
    assert cfg.channel("c").urls == ("json://from-env",)
    assert cfg.secrets == ("json://from-env",)


def test_unset_variables_are_each_named(tmp_path: Path) -> None:
    """Every unset variable is an error naming it at its value's position."""
    assert config_errors(setup(tmp_path, "channels:\n  c: slack://${A}/${B}\n")) == [
        "config.yaml:2:6: environment variable A is not set; set it, or write ${A:-default}",
        "config.yaml:2:6: environment variable B is not set; set it, or write ${B:-default}",
    ]


def test_secrets_never_appear_in_errors(tmp_path: Path) -> None:
    """A substituted value that fails validation is masked in the error."""
    path = setup(
        tmp_path,
        "sources:\n  - {name: s, type: rss, url: x, every: '${POLL}'}\nchannels:\n  c: ${URL}\n",
    )
    errors = config_errors(path, env={"POLL": "sekrit-poll", "URL": "sekrit-url"})
    assert errors == [
        "config.yaml:2:41: every: '***' is not a duration; write a number with a unit, "
        "such as 30s, 15m, 6h, 1d or 1h30m",
        "config.yaml:4:6: channel 'c': expected an Apprise URL such as slack://... or "
        "mailto://..., found text that is not a URL",
    ]
    assert not any("sekrit" in e for e in errors)


def test_unknown_scheme_error_names_only_the_scheme(tmp_path: Path) -> None:
    """A channel URL with an unknown scheme is reported without the rest of the URL."""
    path = setup(tmp_path, "channels:\n  c: 'xyzzy://me:pa55word-x@host/${TOK}'\n")
    errors = config_errors(path, env={"TOK": "tok-sekrit"})
    assert errors == [
        "config.yaml:2:6: channel 'c': unknown Apprise scheme 'xyzzy'; see "
        "https://github.com/caronc/apprise/wiki for the services and their URLs"
    ]


def test_templates_using_every_token_pass(tmp_path: Path) -> None:
    """Title and body templates using every documented token load without an error."""
    body = (
        "{{ rule }} {{ title }} {{ url }} {{ summary }} {{ snippet }} {{ source }} "
        "{{ published }} {{ score }} {{ hits[0].term }} {{ also_in|join(', ') }}"
    )
    cfg = load_config(
        setup(tmp_path, f'templates:\n  title: "{{{{ title }}}}"\n  body: "{body}"\n')
    )
    assert cfg.templates.body == body


BAD_CONFIGS = [
    ("timezone: Asia/Shangai\n",
     "config.yaml:1:11: unknown time zone 'Asia/Shangai' (did you mean 'Asia/Shanghai'?)"),
    ("state: postgresql://db:port/watch\n",
     "config.yaml:1:8: state: not a valid PostgreSQL URL (Port could not be cast to integer "
     "value as 'port'); write postgresql://user:${PGPASSWORD}@host:5432/dbname"),
    ("state: mysql://db\n",
     "config.yaml:1:8: state must be a SQLite file path such as ./watchlist.db, or a PostgreSQL "
     "URL such as postgresql://user:${PGPASSWORD}@host/dbname"),
    ("treshold: 3\n",
     "config.yaml:1:1: unknown key 'treshold' in config; known keys: timezone, state, rules, "
     "defaults, sources, channels, templates, delivery, server, logging, "
     "archive"),
    ("chanels: {}\n",
     "config.yaml:1:1: unknown key 'chanels' in config (did you mean 'channels'?)"),
    ("defaults: {threshold: high}\n",
     "config.yaml:1:23: threshold: expected a number from 0 to 100, found the text 'high'"),
    ("defaults: {notify: [consle]}\n",
     "config.yaml:1:21: unknown channel 'consle' (did you mean 'console'?)"),
    ("defaults: {colldown: 6h}\n",
     "config.yaml:1:12: unknown key 'colldown' in defaults (did you mean 'cooldown'?)"),
    ("defaults: [threshold]\n",
     "config.yaml:1:11: defaults: expected a mapping with threshold, notify, cooldown, priority, "
     "require, fields, quiet_hours, digest, found a list"),
    ("sources: {name: a}\n",
     "config.yaml:1:10: sources: expected a list of sources, found a mapping"),
    ("sources:\n  - {name: a, type: rss}\n", "config.yaml:2:5: an rss source needs 'url'"),
    ("sources:\n  - {name: a, type: folder}\n", "config.yaml:2:5: a folder source needs 'path'"),
    ("sources:\n  - {type: http, listen: 8787}\n", "config.yaml:2:5: a source needs 'name'"),
    ("sources:\n  - {name: a}\n", "config.yaml:2:5: a source needs 'type' (rss, folder or http)"),
    ("sources:\n  - {name: a, type: ftp}\n",
     "config.yaml:2:21: type must be 'rss', 'folder' or 'http', not 'ftp'"),
    ("sources:\n  - {name: a, type: folder, path: x, url: http://x}\n",
     "config.yaml:2:38: unknown key 'url' in a folder source; known keys: name, type, every, "
     "timeout, max_bytes, enabled, path"),
    ("sources:\n  - {name: a, type: rss, url: x, evry: 1m}\n",
     "config.yaml:2:34: unknown key 'evry' in an rss source (did you mean 'every'?)"),
    ("sources:\n  - {name: a, type: rss, url: gopher://x}\n",
     "config.yaml:2:31: url must be an http(s) URL or a local file path"),
    ("sources:\n  - {name: a, type: http, listen: nowhere}\n",
     "config.yaml:2:35: listen: expected host:port such as 127.0.0.1:8787, found 'nowhere'"),
    ("sources:\n  - {name: a, type: rss, url: x, every: 0s}\n",
     "config.yaml:2:41: every: must be more than zero"),
    ("sources:\n  - {name: a, type: rss, url: x, every: 15}\n",
     "config.yaml:2:41: every: expected a duration such as 15m, found the number 15"),
    ("sources:\n  - {name: a, type: rss, url: x, max_bytes: lots}\n",
     "config.yaml:2:45: max_bytes: 'lots' is not a size; write a number of bytes "
     "or e.g. 512KB, 10MB, 1GB"),
    ("sources:\n  - {name: a, type: rss, url: x, enabled: no way}\n",
     "config.yaml:2:43: enabled: expected true or false, found the text 'no way'"),
    ("sources:\n  - {name: a, type: rss, url: x}\n  - {name: a, type: rss, url: y}\n",
     "config.yaml:3:12: duplicate source name 'a' (first at line 2)"),
    ("channels: [json://x]\n",
     "config.yaml:1:11: channels: expected a mapping of channel names to Apprise URLs, "
     "found a list"),
    ("channels:\n  c: not a url\n",
     "config.yaml:2:6: channel 'c': expected an Apprise URL such as slack://... or "
     "mailto://..., found text that is not a URL"),
    ("channels:\n  bad: slak://a/b/c\n",
     "config.yaml:2:8: channel 'bad': unknown Apprise scheme 'slak'; did you mean 'slack'?"),
    ("channels:\n  c: {urls: [console://, json://x, 'Tgramm://tok/chat']}\n",
     "config.yaml:2:36: channel 'c': unknown Apprise scheme 'tgramm'; did you mean 'tgram'?"),
    ("channels:\n  c: []\n",
     "config.yaml:2:6: channel 'c': expected an Apprise URL or a list of them, found nothing"),
    ("channels:\n  c: {url: json://x, urls: [json://y]}\n",
     "config.yaml:2:6: channel 'c' needs either 'url' or 'urls'"),
    ("channels:\n  c: {url: json://x, rate_limit: fast}\n",
     "config.yaml:2:34: rate_limit: 'fast' is not a rate limit; write it as N/duration, "
     "such as 10/1m or 100/1h"),
    ("channels:\n  c: {url: json://x, concurrency: 0}\n",
     "config.yaml:2:35: concurrency must be from 1 to 64, not 0"),
    ("channels:\n  c: {url: json://x, format: rtf}\n",
     "config.yaml:2:30: format must be 'text', 'markdown' or 'html', not 'rtf'"),
    ("channels:\n  c: {url: json://x, uri: y}\n",
     "config.yaml:2:22: unknown key 'uri' in channel 'c' (did you mean 'url'?)"),
    ("templates:\n  title: '{{ rule '\n",
     "config.yaml:2:10: title template, line 1: unexpected end of template, expected "
     "'end of print statement'."),
    ("templates:\n  title: '{{ titel }}'\n",
     "config.yaml:2:10: template 'title': 'titel' is undefined; did you mean 'title'?"),
    ("templates:\n  body: \"{{ snippet }}\\n{{ link }}\"\n",
     "config.yaml:2:9: template 'body': 'link' is undefined; the names are rule, description, "
     "title, url, summary, snippet, source, published, published_iso, score, hits, groups, "
     "matched, article, also_in"),
    ("templates:\n  body: '{{ url.__class__ }}'\n",
     "config.yaml:2:9: template 'body': access to attribute '__class__' of 'str' object is "
     "unsafe."),
    ("templates:\n  footer: x\n",
     "config.yaml:2:3: unknown key 'footer' in templates; known keys: title, body"),
    ("delivery: {retry_horizon: never}\n",
     "config.yaml:1:27: retry_horizon: 'never' is not a duration; write a number with a unit, "
     "such as 30s, 15m, 6h, 1d or 1h30m"),
    ("delivery: {timeout: 0}\n", "config.yaml:1:21: timeout: must be more than zero"),
    ("server: {listen: 'localhost'}\n",
     "config.yaml:1:18: listen: expected host:port such as 127.0.0.1:8787, found 'localhost'"),
    ("logging: {level: verbose}\n",
     "config.yaml:1:18: level must be 'debug', 'info', 'warning' or 'error', not 'verbose'"),
    ("logging: {format: xml}\n", "config.yaml:1:19: format must be 'text' or 'json', not 'xml'"),
    ("rules: nowhere/\n",
     "config.yaml:1:8: 'nowhere/' does not exist; create it or point rules: at a file, "
     "folder or glob"),
    ("rules: 'rules/*.json'\n", "config.yaml:1:8: no rule files match 'rules/*.json'"),
    ("timezone: UTC\ntimezone: UTC\n",
     "config.yaml:2:1: duplicate key 'timezone' (first at line 1, column 1); remove one of them"),
    ("a: [\n", "config.yaml:2:1: invalid YAML: while parsing a flow node "
     "did not find expected node content"),
    ("- just\n- a list\n", "config.yaml:1:1: expected a mapping of settings"),
    ("channels:\n  c: 'json://${BAD NAME}'\n",
     "config.yaml:2:6: '${BAD NAME}' is not a variable name; write $${ for a literal ${"),
    ("channels:\n  c: 'json://${OPEN'\n",
     "config.yaml:2:6: unclosed '${'; write $${ for a literal ${"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_each_config_mistake_has_its_exact_error(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of config mistake gives one error at the exact line and column."""
    assert config_errors(setup(tmp_path, text)) == [expected]


def test_errors_in_config_and_rules_are_all_reported(tmp_path: Path) -> None:
    """Config errors and rule errors come together, config first, with rule channels checked."""
    path = setup(
        tmp_path,
        "timezone: Mars/Base\nchannels:\n  team: json://x\n",
        rules="- name: r\n  keywords: [x]\n  notify: [teem]\n  threshold: 200\n",
    )
    assert config_errors(path) == [
        "config.yaml:1:11: unknown time zone 'Mars/Base' (an IANA name like Asia/Tokyo)",
        "rules/r.yaml:3:12: unknown channel 'teem' (did you mean 'team'?)",
        "rules/r.yaml:4:14: threshold must be from 0 to 100, not 200",
    ]


def test_missing_default_rules_folder(tmp_path: Path) -> None:
    """Without rules: and without a rules/ folder, the error says what to do."""
    assert config_errors(setup(tmp_path, "timezone: UTC\n", rules=None)) == [
        "config.yaml: no rules: given, and 'rules/' does not exist; create it or point rules: "
        "at a file, folder or glob"
    ]


def test_empty_rules_folder_is_an_error(tmp_path: Path) -> None:
    """A rules folder with no rule files is an error (a daemon with no rules does nothing)."""
    (tmp_path / "rules").mkdir()
    assert config_errors(setup(tmp_path, "rules: rules\n", rules=None)) == [
        "config.yaml:1:8: the rules folder 'rules' has no *.yaml or *.yml files; add a rule file"
    ]


def test_missing_config_says_how_to_start(tmp_path: Path) -> None:
    """A config file that does not exist points at `watchlist init`."""
    assert config_errors(tmp_path / "config.yaml") == [
        "config.yaml: config file not found; to start, run `watchlist init` (a starter "
        "config.yaml and rules/ here), or pass -c FILE"
    ]


def test_source_token_is_a_secret(tmp_path: Path) -> None:
    """A literal source token is listed among the secrets logs must mask."""
    cfg = load_config(
        setup(tmp_path, "sources:\n  - {name: i, type: http, listen: 8787, token: lit-token}\n"),
        env={},
    )
    assert cfg.secrets == ("lit-token",)
    assert cfg.sources[0].listen == "127.0.0.1:8787"


@pytest.mark.parametrize(
    ("server", "ok"),
    [
        ("{listen: 127.0.0.1:9100}", True),
        ("{listen: 'localhost:9100'}", True),
        ("{listen: '[::1]:9100'}", True),
        ("{listen: 0.0.0.0:9100, token: s3cret-token}", True),
        ("{listen: 0.0.0.0:9100}", False),
        ("{listen: '192.168.1.5:9100'}", False),
    ],
)
def test_server_beyond_loopback_needs_a_token(tmp_path: Path, server: str, ok: bool) -> None:
    """The web page listens beyond this machine only with server.token; the token is a secret."""
    path = setup(tmp_path, f"server: {server}\n")
    if ok:
        cfg = load_config(path)
        assert cfg.server.listen
        assert ("s3cret-token" in cfg.secrets) == ("token" in server)
        return
    with pytest.raises(ConfigErrors) as info:
        load_config(path)
    [err] = info.value.errors
    assert str(err).startswith("config.yaml:1:18: server listens on ")
    assert "without a token" in str(err) and "set server.token" in str(err)


def test_postgresql_state_is_kept_and_its_password_secret(tmp_path: Path) -> None:
    """A postgresql:// state stays a URL; its password (from ${VAR} or written) is a secret."""
    env = {"PGPW": "s3cret-pw"}
    cfg = load_config(
        setup(tmp_path, "state: postgresql://watch:${PGPW}@db.internal:5432/watch\n"), env=env
    )
    assert cfg.state == "postgresql://watch:s3cret-pw@db.internal:5432/watch"
    assert "s3cret-pw" in cfg.secrets
    cfg = load_config(setup(tmp_path, "state: postgres://w:written%40pw@db/w\n"), env={})
    assert {"written%40pw", "written@pw"} <= set(cfg.secrets)
    cfg = load_config(setup(tmp_path, "state: postgresql://w@db/w?password=in-query\n"), env={})
    assert "in-query" in cfg.secrets
