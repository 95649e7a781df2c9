"""Minesweeper as a text game (:mod:`memplay.environments.minesweeper.env`)."""
