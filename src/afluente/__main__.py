"""`python -m afluente`: the same as the `afluente` command."""

from afluente.cli.app import main

if __name__ == "__main__":
    main()
