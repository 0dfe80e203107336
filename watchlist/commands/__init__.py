"""One module per ``watchlist`` subcommand; see watchlist.cli for the registry.

Each has ``add_arguments(parser)`` and ``run(args) -> int`` (its line of help is in
watchlist.cli's ``COMMANDS``, so the parser needs no other command module); ``statusview``
collects what ``status`` shows. The top layer: may import every package below it.
"""
