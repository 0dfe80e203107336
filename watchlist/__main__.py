"""Entry point for ``python -m watchlist``."""

from watchlist.cli import main

raise SystemExit(main())
