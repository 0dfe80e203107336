"""Entry point for ``python -m watchlist``."""

from watchlist.cli import main

if __name__ == "__main__":  # not when a matching worker process imports it
    raise SystemExit(main())
