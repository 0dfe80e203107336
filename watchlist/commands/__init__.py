"""One module per ``watchlist`` subcommand; see watchlist.cli for the registry.

Each has ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; ``statusview``
collects what ``status`` shows. The top layer: may import every package below it.
"""
