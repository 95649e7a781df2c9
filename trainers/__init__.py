"""memplay subpackage."""
