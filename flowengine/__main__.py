"""`python -m flowengine` runs the command line."""

from .cli import main

main()
