"""`python -m app.cli`: the command line, as the console script runs it."""

from app.cli import main

main()
