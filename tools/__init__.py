"""Checks of the code's shape, run by `make test` and by hand."""
