"""`python -m simulate` runs the `attrition` command line."""

from .cli import main

main()
