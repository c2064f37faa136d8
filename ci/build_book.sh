#!/usr/bin/env bash
# Build the course book (HTML) from the committed, quick-mode outputs of the chapters.
# Warnings are errors. Runs offline. Output: book/_build/html/index.html
#   bash ci/build_book.sh            # the main job; NOETHER_QUICK=1 (quick mode) by default
# A chapter committed without outputs is executed during the build (execute_notebooks: auto).
set -euo pipefail
cd "$(dirname "$0")/.."
export NOETHER_QUICK="${NOETHER_QUICK:-1}"
export MPLBACKEND="module://matplotlib_inline.backend_inline"  # notebooks executed by the build draw inline
python ci/badges.py --check
python ci/fetch_mathjax.py  # MathJax served with the book, so math renders offline
python ci/running_page.py  # "Running it yourself", from the measured times (not committed)
rm -rf book/_build/html book/_build/.doctrees
jupyter-book build book/ --config "$PWD/_config.yml" --toc "$PWD/book/_toc.yml" --path-output "$PWD/book" \
  --warningiserror --nitpick --keep-going
echo "book: $(pwd)/book/_build/html/index.html"
