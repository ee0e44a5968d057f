"""`python -m afluente.cli` — the same as the `afluente` command."""

from afluente.cli.app import main

main()
