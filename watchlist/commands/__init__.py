"""One module per ``watchlist`` subcommand; see watchlist.cli for the registry."""
