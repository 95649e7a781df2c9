"""The application layer: the ``memplay`` command line (:mod:`memplay.app.cli`), its
subcommands (:mod:`memplay.app.commands`) and the HTML run report (:mod:`memplay.app.report`).

Nothing below this layer imports it; ``python -m memplay`` and the ``memplay`` console script
start here.

    >>> from memplay.app.cli import COMMANDS
    >>> "run" in COMMANDS
    True
"""

# Every built-in method's memory files, known to the archive and to "is this a memory
# directory?" (memplay.memory.reflection_files) before any command reads or writes one.
from memplay.agents.methods import critique, expel, playbook, reflexion  # noqa: F401
