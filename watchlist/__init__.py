"""watchlist: a daemon that watches the news for you."""

__version__ = "0.1.0"
