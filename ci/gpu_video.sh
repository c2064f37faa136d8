#!/usr/bin/env bash
# The one prepared GPU run for issue 5 (video prediction).
#   OUT=/some/dir bash ci/gpu_video.sh         # on the GPU machine (~500 s in all)
#   OUT=/tmp/out  bash ci/gpu_video.sh --dry   # CPU rehearsal with tiny settings
# Writes into $OUT: env.txt, bench.json, ramp_full_seed{0,1}.json/.png, pendulum_full_seed0.json/.png,
# bench_cl.json (channels-last, if time is left), log.txt.
# The video subpackage only needs noether_lite.{models,tailor}: it runs from an isolated copy of
# those files, so unrelated work-in-progress elsewhere in the tree cannot break the run.
set -u
DRY=0; [ "${1:-}" = "--dry" ] && DRY=1
OUT=${OUT:-/tmp/gpu_video_out}; mkdir -p "$OUT"
TOTAL=${TOTAL:-500}; [ $DRY = 1 ] && TOTAL=${TOTAL_DRY:-240}
START=$(date +%s)
left() { echo $(( TOTAL - ($(date +%s) - START) )); }
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/log.txt"; }

ISO=$(mktemp -d)/pkg; mkdir -p "$ISO/noether_lite"
cp noether_lite/models.py noether_lite/tailor.py "$ISO/noether_lite/"
cp -r noether_lite/video "$ISO/noether_lite/video"
echo '"""Isolated copy for the GPU run."""' > "$ISO/noether_lite/__init__.py"
export PYTHONPATH="$ISO"
export NOETHER_LITE_CACHE=${NOETHER_LITE_CACHE:-$(mktemp -d)}
PY=${PYTHON:-python}
CLI="$PY -m noether_lite.cli"

{ $PY -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
  $PY -c 'import numpy, matplotlib; print("numpy", numpy.__version__, "matplotlib", matplotlib.__version__)' 2>&1 | tail -1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true; } | tee "$OUT/env.txt"

if [ $DRY = 1 ]; then
  log "bench (dry)"
  timeout 120 $CLI bench video --quick --batch 2 --iters 1 --variants exact,fast --json "$OUT/bench.json" 2>&1 | tee -a "$OUT/log.txt"
  for seed in 0 1; do
    log "ramp seed $seed (dry)"
    timeout 200 $CLI video --dataset ramp --quick --seed $seed --time-budget 10 --k-sweep 0,1,2 \
      --json "$OUT/ramp_full_seed$seed.json" --frames "$OUT/ramp_full_seed$seed.png" 2>&1 | tail -3 | tee -a "$OUT/log.txt"
  done
  log "pendulum (dry)"
  timeout 200 $CLI video --dataset pendulum --quick --seed 0 --time-budget 10 --k-sweep 0,1 \
    --json "$OUT/pendulum_full_seed0.json" --frames "$OUT/pendulum_full_seed0.png" 2>&1 | tail -3 | tee -a "$OUT/log.txt"
  log "done (dry)"; exit 0
fi

log "bench: paper-size model, 128x128, 2+20 frames, bf16 autocast"
timeout 150 $CLI bench video --batch 2,8,32 --iters 4 --warmup 1 --budget 12 --json "$OUT/bench.json" 2>&1 | tee -a "$OUT/log.txt"
for seed in 0 1; do
  L=$(left); B=$(( (L - 140) / (2 - seed) - 45 )); [ $B -gt 110 ] && B=110
  if [ $B -lt 20 ]; then log "skip ramp seed $seed: ${L}s left"; continue; fi
  log "ramp full seed $seed: training budget ${B}s"
  timeout $(( B + 90 )) $CLI video --dataset ramp --full --seed $seed --time-budget $B --k-sweep 0,1,3,10 \
    --json "$OUT/ramp_full_seed$seed.json" --frames "$OUT/ramp_full_seed$seed.png" 2>&1 | grep -v "^  step" | tee -a "$OUT/log.txt"
done
L=$(left); B=$(( L - 60 )); [ $B -gt 80 ] && B=80
if [ $B -ge 20 ]; then
  log "pendulum full seed 0: training budget ${B}s"
  timeout $(( B + 50 )) $CLI video --dataset pendulum --full --seed 0 --time-budget $B --k-sweep 0,1,3 \
    --json "$OUT/pendulum_full_seed0.json" --frames "$OUT/pendulum_full_seed0.png" 2>&1 | grep -v "^  step" | tee -a "$OUT/log.txt"
else log "skip pendulum: ${L}s left"; fi
L=$(left)
if [ $L -ge 40 ]; then
  log "bench channels-last at batch 32"
  timeout $(( L - 5 )) $CLI bench video --batch 32 --iters 3 --warmup 1 --budget 8 --channels-last --json "$OUT/bench_cl.json" 2>&1 | tee -a "$OUT/log.txt"
fi
log "done"
