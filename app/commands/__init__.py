"""Subcommands of the ``memplay`` CLI, one module each (registered in ``memplay.app.cli``)."""
