"""ALFWorld (text household tasks): the environment, its portable view and its demonstrations.

``memplay.environments.alfworld.env`` needs the optional ``alfworld`` package; nothing here is
imported until an ALFWorld id is made.
"""
