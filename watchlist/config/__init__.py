"""Config and rule files: safe YAML, ``${VAR}``, durations, typed checks, every error at once.

Lives here: ``loader`` (config.yaml into a ``Config``), ``rules`` (rule files into
``Rule`` values), ``yamlsafe`` (YAML with positions, no tags, no alias bombs, no
duplicate keys), ``checker`` (typed reads that record ``path:line:column`` errors),
``envvars`` (``${VAR}`` substitution, secrets kept), ``durations`` (``6h``, ``10MB``,
``10/1m``, addresses) and ``errors`` (``ConfigError``, did-you-mean).

May import: ``watchlist.models`` only (and the standard library, PyYAML, Jinja2 for
template syntax). Checks that need a higher stage (Apprise schemes, template
rendering) are handed in as ``ValueChecks``.
"""
