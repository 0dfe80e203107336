"""The long-running process: scheduling, intake and the pipeline, reloads, signals, servers.

Lives here: ``main`` (the APScheduler daemon and ``run --once``), ``intake`` (poll or
accept a batch, match, commit), ``pipeline`` (new articles to recorded matches),
``reload`` and ``reload_status`` (hot reload and its persisted outcome), ``lock``
(one daemon per state), ``systemd`` (sd_notify), ``server`` (``/healthz``,
``/metrics``), ``metrics`` and ``logs`` (masked text or JSON logs).

May import every stage below it: ``delivery``, ``sources``, ``store``, ``decide``,
``match``, ``config``, ``models``. Only this package imports apscheduler.
"""
