"""Generated TextWorld games (:mod:`memplay.environments.textworld.env`; needs ``textworld``)."""
