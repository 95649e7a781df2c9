"""FrozenLake as a text game (:mod:`memplay.environments.frozenlake.env`)."""
