"""The application layer: the ``memplay`` command line (:mod:`memplay.app.cli`), its
subcommands (:mod:`memplay.app.commands`) and the HTML run report (:mod:`memplay.app.report`).

Nothing below this layer imports it; ``python -m memplay`` and the ``memplay`` console script
start here.

    >>> from memplay.app.cli import COMMANDS
    >>> "run" in COMMANDS
    True
"""
