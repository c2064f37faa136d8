"""``python -m noether_lite.video.cli video|bench ...``: the same as ``noether-lite video|bench ...``.

The parsers live in :mod:`noether_lite.cli`, the one command-line module.
"""
from __future__ import annotations

import sys
from typing import List, Optional

__all__ = ["main"]


def main(argv: Optional[List[str]] = None) -> int:
    from ..cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
