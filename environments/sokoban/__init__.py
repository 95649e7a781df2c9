"""Sokoban: the text game, its levels (bundled, XSB files, generated), solver, the push-level
analysis and its views."""
