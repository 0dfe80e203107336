"""The small frozen dataclasses that flow through the pipeline.

source -> normalise -> match -> decide -> outbox -> deliver: every stage takes and
returns these values, so each stage can be tested alone. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

GROUPS: tuple[str, ...] = ("topics", "companies", "exchanges", "keywords")
FIELDS: tuple[str, ...] = ("title", "summary", "body")


# --------------------------------------------------------------------------- articles


@dataclass(frozen=True, slots=True)
class Article:
    """One news item, normalised: plain text fields, canonical URL, UTC time."""

    id: str
    title: str = ""
    summary: str = ""
    body: str = ""
    url: str = ""
    published: datetime | None = None  # timezone-aware, UTC
    source: str = ""  # name of the source it came from

    def field(self, name: str) -> str:
        """The text of one matchable field (``title``, ``summary`` or ``body``)."""
        if name == "title":
            return self.title
        if name == "summary":
            return self.summary
        if name == "body":
            return self.body
        raise KeyError(name)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Example:
    """One article of a rule's ``examples:``: it must match (``expect``) or must not.

    ``index`` counts from 1 within its list (``match`` or ``no_match``); ``path``,
    ``line`` and ``column`` say where the example stands in its rule file.
    """

    article: Article
    expect: bool  # True: listed under match, False: under no_match
    index: int
    path: str = ""
    line: int = 0
    column: int = 0


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing to look for: a name with its aliases and matching options."""

    name: str
    aliases: tuple[str, ...] = ()
    exact: bool = False
    case_sensitive: bool = False
    threshold: float | None = None  # None: the rule's threshold
    tickers: tuple[str, ...] = ()  # Matching v2: matched where written as a ticker
    context: tuple[str, ...] = ()  # words or phrases that confirm an ambiguous name
    not_context: tuple[str, ...] = ()  # words or phrases that veto a hit within 5 words
    ambiguous: bool | None = None  # None: decided by the word-frequency list

    @property
    def terms(self) -> tuple[str, ...]:
        """The name followed by every alias."""
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Rule:
    """A watch rule as written in rules/*.yaml, with defaults already applied."""

    name: str
    topics: tuple[Entry, ...] = ()
    companies: tuple[Entry, ...] = ()
    exchanges: tuple[Entry, ...] = ()
    keywords: tuple[Entry, ...] = ()
    exclude: tuple[Entry, ...] = ()
    description: str = ""
    require: str = "all"  # "all" | "any"
    fields: tuple[str, ...] = FIELDS
    threshold: float = 88.0
    notify: tuple[str, ...] = ()  # channel names
    priority: str = "normal"  # "normal" | "high"
    cooldown: timedelta | None = None
    quiet_hours: tuple[time, time] | None = None  # (start, end), may cross midnight
    digest: str | None = None  # 5-field cron expression
    enabled: bool = True
    origin: str = ""  # "path:line" where the rule was defined
    examples: tuple[Example, ...] = ()  # articles it must and must not match

    def groups(self) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
        """The non-empty groups, in SPEC order: (group name, entries)."""
        return tuple(
            (name, entries)
            for name, entries in (
                ("topics", self.topics),
                ("companies", self.companies),
                ("exchanges", self.exchanges),
                ("keywords", self.keywords),
            )
            if entries
        )


# --------------------------------------------------------------------------- matches


@dataclass(frozen=True, slots=True)
class Hit:
    """Why a rule matched: one term found in one field of the article."""

    group: str  # topics | companies | exchanges | keywords | exclude
    entry: str  # the entry's name
    term: str  # the name or alias that matched
    text: str  # the matched text exactly as it stands in the article
    field: str  # title | summary | body
    start: int  # character offsets into that field of the Article
    end: int
    score: float  # 0-100
    evidence: str = ""  # what made a hit that needed evidence count (SPEC rule 6)


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched an article, with every hit that made it match."""

    rule: str
    article_id: str
    hits: tuple[Hit, ...]

    @property
    def score(self) -> float:
        """The best hit's score."""
        return max((h.score for h in self.hits), default=0.0)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One entry of ``sources:`` in config.yaml."""

    name: str
    type: str  # "rss" | "folder" | "http"
    every: timedelta = timedelta(minutes=15)
    url: str = ""  # rss: http(s) URL or local path
    path: str = ""  # folder: directory (absolute, resolved against the config file)
    listen: str = ""  # http: "host:port"
    token: str = ""  # http: bearer token (a secret)
    insecure: bool = False  # http: allowed to listen beyond loopback without a token
    timeout: float = 30.0  # seconds, whole fetch
    max_bytes: int = 10 * 1024 * 1024  # cap on a decompressed body or file
    enabled: bool = True
    headers: tuple[tuple[str, str], ...] = ()  # rss: sent with each fetch (values are secrets)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One entry of ``channels:``: a name for one or more Apprise URLs."""

    name: str
    urls: tuple[str, ...]
    rate_limit: tuple[int, timedelta] | None = None  # at most N messages per window
    format: str | None = None  # "text" | "markdown" | "html"; None: the service's own
    concurrency: int = 8  # messages in flight at once (1: strictly one after another)


@dataclass(frozen=True, slots=True)
class Templates:
    """Jinja2 templates for alert title and body; None means the built-in default."""

    title: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How the outbox retries: ``delivery:`` in config.yaml."""

    retry_horizon: timedelta = timedelta(hours=24)
    timeout: float = 30.0  # seconds per send


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The optional web page, /healthz and /metrics: ``server:``; empty listen = off."""

    listen: str = ""
    token: str = ""  # a secret: required unless listen is loopback only


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """``logging:`` in config.yaml."""

    level: str = "info"  # debug | info | warning | error
    format: str = "text"  # text | json


@dataclass(frozen=True, slots=True)
class Config:
    """A whole validated config.yaml with its rules loaded."""

    path: str  # the config file, absolute
    timezone: str = "UTC"
    state: str = "watchlist.db"  # absolute path of the SQLite file
    rules_path: str = "rules/"  # as written
    rules: tuple[Rule, ...] = ()
    rule_files: tuple[str, ...] = ()  # every rule file read, absolute
    sources: tuple[SourceConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    templates: Templates = field(default_factory=Templates)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    # How long the state keeps article text for backtests and the web page; None: off.
    archive: timedelta | None = timedelta(days=30)
    # ``defaults:`` as parsed Rule field values, for rules read later (``--rules PATH``).
    rule_defaults: tuple[tuple[str, Any], ...] = ()
    # Every value that came from a ${VAR} and every source token: logs mask them.
    secrets: tuple[str, ...] = ()
    # Variables left unset (only when loaded with unset_ok, by admin commands): still ${VAR}.
    unset_vars: tuple[str, ...] = ()
    # ``rules`` by name (the first of a name wins), derived: ``rule()`` is O(1) per alert.
    _rules_by_name: dict[str, Rule] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rules_by_name", {r.name: r for r in reversed(self.rules)})

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name`` (KeyError when there is none)."""
        for ch in self.channels:
            if ch.name == name:
                return ch
        raise KeyError(name)

    def rule(self, name: str) -> Rule:
        """The rule called ``name`` (KeyError when there is none), by a dict."""
        return self._rules_by_name[name]


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a source remembers between polls (persisted by the store)."""

    etag: str = ""
    last_modified: str = ""
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    failures: int = 0  # consecutive
    next_poll: datetime | None = None  # backoff: do not poll before this
    articles: int = 0  # total articles read
    failed_files: int = 0  # folder source: files moved to failed/, in all


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of a source gave: articles, the new state, and an after-commit hook."""

    articles: tuple[Article, ...]
    state: SourceState
    # Called once the articles are safely committed to the store (the folder
    # source moves its files to done/ here). None when there is nothing to do.
    on_commit: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Snippet:
    """The hit in context: text before it, the hit itself, text after it."""

    before: str = ""
    hit: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything a template may show about one alert."""

    rule: str
    title: str
    url: str = ""
    summary: str = ""
    snippet: Snippet = field(default_factory=Snippet)
    source: str = ""
    published: str = ""  # ISO 8601, UTC
    score: float = 0.0
    hits: tuple[Mapping[str, Any], ...] = ()
    also_in: tuple[str, ...] = ()
    article_id: str = ""
    description: str = ""  # the rule's, filled in by delivery from the config in force


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One (alert, channel) delivery and where it stands."""

    id: int
    alert_id: int
    channel: str
    rule: str
    title: str
    url: str
    status: str  # pending | sending | sent | failed | dropped
    attempts: int
    due: datetime
    next_attempt: datetime
    last_error: str
    held_reason: str
    fold_key: str | None
    delivered_urls: tuple[int, ...]
    created: datetime
    sent_at: datetime | None
    claimed_by: str
    updated: datetime  # last change; for a 'sending' row, when it was claimed
    article_id: str = ""  # the alert's article (the key every command's JSON calls "article")


@dataclass(frozen=True, slots=True)
class Mute:
    """A silence: a rule (or one story for it) whose matches are recorded but not sent."""

    id: int
    rule: str
    until: datetime  # aware UTC; the mute ends here
    comment: str
    created: datetime
    story: int | None = None  # the alert id whose story is muted; None: the whole rule
    story_id: str = ""  # that alert's article id, URL and title key (a story's marks)
    story_url: str = ""
    story_key: str = ""
    removed: datetime | None = None  # unmuted by a user at this time

    def active(self, now: datetime) -> bool:
        """True while the mute silences matches: not removed and not yet expired."""
        return self.removed is None and now < self.until


class Stopping(RuntimeError):
    """The daemon is stopping: a batch was cut short between chunks (what was committed stays)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"stopping: {done} of {total} articles stored; send the rest again")
        self.done = done
        self.total = total


class StateError(RuntimeError):
    """The state file cannot be used (damaged, not a state file, unwritable); says what to do."""
