"""``python -m memplay`` runs the CLI."""

from memplay.cli import main

raise SystemExit(main())
