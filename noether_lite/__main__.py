"""``python -m noether_lite ...``: the same as the ``noether-lite`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
