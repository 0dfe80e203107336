"""The SQLite schema of the state file, as numbered migrations applied in order by store.py.

Version 2 keys ``seen`` on (source, article_id): a feed's own guid ("1") only
names an article within that feed, and a copy of a story from another source
must reach the store so it can be noted on the alerts it already raised.
Rows of version 1 keep the source they were recorded with, so nothing seen
before is matched again from the same source.

Version 3 (issue 11) adds ``archive``: the text of every article seen, kept for
``archive:`` (config.yaml) for backtests and the web page's rule tester, written in
the transaction that marks the article seen and pruned in small batches by
``seen_at`` (indexed; ``id`` breaks ties in the newest-first walk).

Version 4 (mutes, issue 12) adds ``mutes`` (a rule, or one story of a rule, silenced
until a time, with the user's comment) and ``alerts.muted`` (the id of the mute that
silenced an alert: it is recorded and shown, with no outbox rows); and indexes for the
web page: outbox rows by alert, alerts by time.

Version 5 gives each alert its story key (``store/stories.py``; filled in for older
alerts when the store opens) with an index, so story dedup is one lookup per match,
and keeps every merge of a match into an earlier alert in ``merges``.

Version 6 is the cluster (several daemons on one PostgreSQL; the tables exist in
SQLite too, so both schemas stay one): ``daemons`` (one row per running daemon and
its last heartbeat), ``source_leases`` (who polls which source, until when, and
when it is due next) and ``outbox.sent_by`` (which daemon sent a row).

Every statement is written for SQLite and runs on PostgreSQL through
``store.dialect`` (types, identity ids, placeholders).
"""

from __future__ import annotations

SCHEMA_VERSION = 6

SCHEMA: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            "CREATE TABLE seen (article_id TEXT PRIMARY KEY, source TEXT NOT NULL,"
            " seen_at TEXT NOT NULL)",
            "CREATE TABLE alerts (id INTEGER PRIMARY KEY, rule TEXT NOT NULL,"
            " article_id TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL,"
            " title_key TEXT NOT NULL, summary TEXT NOT NULL, source TEXT NOT NULL,"
            " published TEXT NOT NULL, score REAL NOT NULL, hits TEXT NOT NULL,"
            " snippet TEXT NOT NULL, also_in TEXT NOT NULL DEFAULT '[]',"
            " created TEXT NOT NULL, story_at TEXT NOT NULL)",
            "CREATE INDEX alerts_rule_url ON alerts (rule, url)",
            "CREATE INDEX alerts_rule_story_at ON alerts (rule, story_at)",
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY,"
            " alert_id INTEGER NOT NULL REFERENCES alerts (id), channel TEXT NOT NULL,"
            " status TEXT NOT NULL, fold_key TEXT, held_reason TEXT NOT NULL DEFAULT '',"
            " due TEXT NOT NULL, next_attempt TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " last_error TEXT NOT NULL DEFAULT '', delivered_urls TEXT NOT NULL DEFAULT '[]',"
            " claimed_by TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,"
            " updated TEXT NOT NULL, sent_at TEXT)",
            "CREATE INDEX outbox_status_next ON outbox (status, next_attempt)",
            "CREATE TABLE rule_state (rule TEXT PRIMARY KEY, last_due TEXT NOT NULL)",
            "CREATE TABLE sends (channel TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE INDEX sends_channel_at ON sends (channel, at)",
            "CREATE TABLE source_state (name TEXT PRIMARY KEY, state TEXT NOT NULL)",
        ),
    ),
    (
        2,
        (
            "CREATE TABLE seen_v2 (source TEXT NOT NULL, article_id TEXT NOT NULL,"
            " seen_at TEXT NOT NULL, PRIMARY KEY (source, article_id))",
            "INSERT OR IGNORE INTO seen_v2 (source, article_id, seen_at)"
            " SELECT source, article_id, seen_at FROM seen",
            "DROP TABLE seen",
            "ALTER TABLE seen_v2 RENAME TO seen",
            "CREATE INDEX alerts_article_id ON alerts (article_id)",
            "CREATE INDEX alerts_url ON alerts (url)",
        ),
    ),
    (
        3,
        (
            "CREATE TABLE archive (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
            " article_id TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL,"
            " body TEXT NOT NULL, url TEXT NOT NULL, published TEXT, seen_at TEXT NOT NULL,"
            " UNIQUE (source, article_id))",
            "CREATE INDEX archive_seen_at ON archive (seen_at, id)",
        ),
    ),
    (
        4,
        (
            "CREATE TABLE mutes (id INTEGER PRIMARY KEY, rule TEXT NOT NULL,"
            " story INTEGER, story_id TEXT NOT NULL DEFAULT '',"
            " story_url TEXT NOT NULL DEFAULT '', story_key TEXT NOT NULL DEFAULT '',"
            " until TEXT NOT NULL, comment TEXT NOT NULL, created TEXT NOT NULL, removed TEXT)",
            "CREATE INDEX mutes_rule ON mutes (rule)",
            "ALTER TABLE alerts ADD COLUMN muted INTEGER",
            "CREATE INDEX outbox_alert ON outbox (alert_id)",
            "CREATE INDEX alerts_created ON alerts (created)",
            "CREATE INDEX alerts_rule_created ON alerts (rule, created)",
            "CREATE INDEX alerts_rule_id ON alerts (rule, id)",
            "CREATE INDEX alerts_muted ON alerts (muted)",
        ),
    ),
    (
        5,
        (
            "ALTER TABLE alerts ADD COLUMN story_key TEXT",
            "CREATE INDEX alerts_rule_story_key ON alerts (rule, story_key, story_at)",
            "CREATE INDEX alerts_rule_article ON alerts (rule, article_id)",
            "CREATE TABLE merges (id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL"
            " REFERENCES alerts (id), rule TEXT NOT NULL, source TEXT NOT NULL,"
            " article_id TEXT NOT NULL, title TEXT NOT NULL, url TEXT NOT NULL,"
            " how TEXT NOT NULL, at TEXT NOT NULL)",
            "CREATE INDEX merges_alert ON merges (alert_id)",
        ),
    ),
    (
        6,
        (
            "CREATE TABLE daemons (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,"
            " started TEXT NOT NULL, heartbeat TEXT NOT NULL, version TEXT NOT NULL DEFAULT '')",
            "CREATE TABLE source_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL DEFAULT '',"
            " expires TEXT NOT NULL DEFAULT '', due TEXT NOT NULL DEFAULT '',"
            " polled TEXT NOT NULL DEFAULT '', polls INTEGER NOT NULL DEFAULT 0)",
            "ALTER TABLE outbox ADD COLUMN sent_by TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX outbox_status_claimed ON outbox (status, claimed_by)",
        ),
    ),
)
