#!/usr/bin/env bash
# The whole test suite, as CI runs it (README: `bash ci/test.sh`). Exits non-zero on any failure
# and prints a timing summary per stage. Budget: <= 30 min on 2 CPU cores.
#   1. package tests          pytest tests/
#   2. chapters in sync       python ci/chapters.py check (each book/NN_name.md and its executed .ipynb)
#      prose numbers          python ci/check_prose_numbers.py (no decimal number in prose the code did not print)
#      chapters               nbval re-executes book/*.ipynb, compares "# NBVAL_CHECK_OUTPUT" cells,
#                             under other CPU arithmetic than the one that wrote them (see below)
#   3. exercises              bash ci/run_exercises.sh if it exists (drift check, solutions, exercises);
#                             otherwise: python ci/make_exercises.py --check (if present), nbval on
#                             solutions/*.ipynb, and exercises/*.ipynb must run to the end or stop at a
#                             stub raising NotImplementedError("Exercise: ...")
#   colab                     python ci/colab_check.py: every chapter, exercise and solution in a Colab-like
#                             runtime (Python 3.12, Colab's notebook pins, an empty folder, the package
#                             installed by each setup cell); skipped without a Python 3.12 unless
#                             NOETHER_REQUIRE_COLAB=1 (CI sets it)
#   4. book                   bash ci/build_book.sh  (warnings are errors; uses the committed outputs)
#   5. browser                python ci/check_browser.py  (headless chromium on the built HTML)
set -uo pipefail
cd "$(dirname "$0")/.."
export NOETHER_QUICK="${NOETHER_QUICK:-1}"
export MPLBACKEND="${MPLBACKEND:-Agg}"
KERNEL_MPL="module://matplotlib_inline.backend_inline"  # notebook kernels draw inline, whatever MPLBACKEND is

declare -a NAMES=() SECONDS_USED=() RESULTS=()
FAILED=0

stage() {  # stage NAME COMMAND...: run, time, record; never abort the remaining stages
  local name="$1"; shift
  echo; echo "=== ${name}: $*"
  local t0=$SECONDS rc
  "$@"; rc=$?
  NAMES+=("$name"); SECONDS_USED+=($((SECONDS - t0)))
  if [ "$rc" -eq 0 ]; then RESULTS+=("ok"); else RESULTS+=("FAILED (exit $rc)"); FAILED=1; fi
}

skip() { NAMES+=("$1"); SECONDS_USED+=(0); RESULTS+=("skipped: $2"); }

pytest_allow_empty() {  # pytest exit code 5 = "no tests collected": not a failure for an empty folder
  python -m pytest "$@"; local rc=$?
  if [ "$rc" -eq 5 ]; then echo "(no tests collected)"; return 0; fi
  return "$rc"
}

nbval_on() {  # nbval_on FILES...: re-execute notebooks, compare the marked cells
  MPLBACKEND="$KERNEL_MPL" pytest_allow_empty -q -p no:cacheprovider --nbval-lax --nbval-cell-timeout=900 \
    --sanitize-with ci/nbval_sanitize.cfg "$@"
}

# The chapters are executed for the book under the pinned arithmetic of their setup cells
# (noether_lite.numerics: 2 threads, no oneDNN, MKL_CBWR=AVX2, ATEN_CPU_CAPABILITY=avx2). CI
# re-executes them as another machine would: MKL's kernels at AVX (no FMA) instead of AVX2, ATen's
# scalar kernels instead of its vectorised ones, oneDNN at SSE4.1, one OpenMP thread outside the
# pinned count. (ATen's scalar kernels move a quick video run's gap by 0.2 dB on the ramp and
# 1.2 dB on the pendulum: ci/video_spread.py.) A checked cell that only reproduces under the
# settings that wrote it fails here.
# NOETHER_CHAPTER_ARITHMETIC="VAR=VALUE ..." replaces these settings (e.g. to try a second one).
read -r -a OTHER_ARITHMETIC <<< "${NOETHER_CHAPTER_ARITHMETIC:-MKL_CBWR=AVX ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 OMP_NUM_THREADS=1}"
nbval_other_arithmetic() {
  echo "(under ${OTHER_ARITHMETIC[*]})"
  ( export "${OTHER_ARITHMETIC[@]}"; nbval_on "$@" )
}

exercises_run_to_stubs() {  # each exercise notebook must run until it reaches an unsolved stub
  local nb rc=0 out
  for nb in "$@"; do
    out="$(mktemp --suffix=.ipynb)"
    MPLBACKEND="$KERNEL_MPL" python - "$nb" "$out" <<'PY' || rc=1
import sys, papermill
from papermill.exceptions import PapermillExecutionError
src, dst = sys.argv[1], sys.argv[2]
try:
    papermill.execute_notebook(src, dst, kernel_name="python3", cwd=src.rsplit("/", 1)[0] or ".", progress_bar=False)
    print(f"{src}: ran to the end")
except PapermillExecutionError as e:
    if e.ename == "NotImplementedError" and "Exercise" in str(e.evalue):
        print(f"{src}: stopped at its first stub, as expected")
    else:
        print(f"{src}: {e.ename}: {e.evalue}", file=sys.stderr); sys.exit(1)
PY
    rm -f "$out"
  done
  return "$rc"
}

stage "package tests" pytest_allow_empty -q -p no:cacheprovider tests/

stage "chapters in sync" python ci/chapters.py check
stage "prose numbers" python ci/check_prose_numbers.py

shopt -s nullglob
chapters=(book/[0-9][0-9]_*.ipynb)
if [ ${#chapters[@]} -gt 0 ]; then stage "chapters (nbval)" nbval_other_arithmetic "${chapters[@]}"; else skip "chapters (nbval)" "no notebooks in book/"; fi

if [ -f ci/run_exercises.sh ]; then
  # the exercises' own runner: drift check, solutions pass their checks, exercises run to the end
  stage "exercises + solutions" bash ci/run_exercises.sh
else
  if [ -f ci/make_exercises.py ]; then stage "exercises drift" python ci/make_exercises.py --check
  else skip "exercises drift" "ci/make_exercises.py not present"; fi
  solutions=(solutions/*.ipynb)
  if [ ${#solutions[@]} -gt 0 ]; then stage "solutions (nbval)" nbval_on "${solutions[@]}"; else skip "solutions (nbval)" "no notebooks in solutions/"; fi
  exercises=(exercises/*.ipynb)
  if [ ${#exercises[@]} -gt 0 ]; then stage "exercises (papermill)" exercises_run_to_stubs "${exercises[@]}"; else skip "exercises (papermill)" "no notebooks in exercises/"; fi
fi

if python ci/colab_check.py --find-python >/dev/null 2>&1; then stage "colab-like runtime" python ci/colab_check.py
elif [ "${NOETHER_REQUIRE_COLAB:-0}" = 1 ]; then stage "colab-like runtime" python ci/colab_check.py --find-python
else skip "colab-like runtime" "no Python 3.12 here (pyenv install 3.12, or set NOETHER_COLAB_PYTHON)"; fi

stage "book build" bash ci/build_book.sh
if [ -f book/_build/html/intro.html ]; then stage "browser check" python ci/check_browser.py
else skip "browser check" "no built book"; fi

echo; echo "=== timing summary"
total=0
for i in "${!NAMES[@]}"; do
  printf '%-24s %5ss  %s\n' "${NAMES[$i]}" "${SECONDS_USED[$i]}" "${RESULTS[$i]}"
  total=$((total + SECONDS_USED[$i]))
done
printf '%-24s %5ss  %s\n' "total" "$total" "$([ "$FAILED" -eq 0 ] && echo ok || echo FAILED)"
exit "$FAILED"
