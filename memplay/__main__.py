"""``python -m memplay`` runs the CLI."""

from memplay.app.cli import main

raise SystemExit(main())
