#!/usr/bin/env bash
# Engine v2 side by side with the official PyTorch code, on this machine, in this sitting
# (../shared/perf/README.md): both sides with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset and the
# same allocator settings, alternating, SITTINGS times. One JSON object per line; every line
# carries the CPU's ISA. Run it alone on the machine (no builds, tests or helpers meanwhile).
#
#   RVC_SRC=<RVC-WebUI tree> F5TTS_SRC=<F5-TTS>/src VOCOS_SRC=<vocos> bash bench/engine/run.sh
#   SITTINGS=3 (default)  STAGES="rvc f5 train" (default: rvc f5)  PERF=../shared/perf
#   TRAIN_CONFIGS="v2-48k v2-40k v1-48k" (default: v2-48k): the official training configurations the
#   train stage times, each as VERSION-RATE (v1|v2, 32k|40k|48k), on both sides: ours with
#   `bench rvc train --version V --sr SR`, PyTorch with bench/engine/pytorch_rvc_train.py (the
#   official networks and configs/v1|v2 JSON of RVC_SRC; for v2-48k the same step as
#   $PERF/pytorch_rvc.py's train_step_v2_48k). TRAIN_TINY=1 runs both sides on tiny models for one
#   timed step: a check that the harness runs and prints JSON, its times mean nothing.
# When PyTorch or an official tree is missing, says so and reports our numbers only; when the
# PyTorch side fails, its last error line is printed as a note. The F5-TTS side also needs Debian's
# python3-jieba (the shims' rjieba stand-in imports it), besides the packages the perf README lists.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/voiceclone}
PERF=${PERF:-../shared/perf}
SITTINGS=${SITTINGS:-3}
STAGES=${STAGES:-rvc f5}
TRAIN_CONFIGS=${TRAIN_CONFIGS:-v2-48k}
TRAIN_CHECK=; [ "${TRAIN_TINY:-0}" = 1 ] && TRAIN_CHECK="--tiny --steps 1"
ISA=$("$BIN" bench isa 2>/dev/null || echo unknown)
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295
U="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
PY=/usr/bin/python3
have_torch() { $PY -c 'import torch' 2>/dev/null; }
tag() { sed "s/^{/{\"isa\":\"$ISA\",\"sitting\":$1,/"; }
note() { echo "{\"isa\":\"$ISA\",\"note\":\"$1\"}"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for s in $(seq 1 "$SITTINGS"); do
  for stage in $STAGES; do
    case $stage in
      rvc)
        if have_torch && [ -n "${RVC_SRC:-}" ] && [ -d "$RVC_SRC" ]; then
          if $U $PY "$PERF/pytorch_rvc.py" --rvc-src "$RVC_SRC" --out "$tmp/rvc.json" \
             --stages hubert_base,rmvpe_full,synth_v2_48k_infer >"$tmp/rvc.log" 2>&1; then
            echo "{\"side\":\"pytorch\",\"rvc\":$(cat "$tmp/rvc.json")}" | tag "$s"
          else note "PyTorch RVC side failed: $(tail -n 1 "$tmp/rvc.log" | tr -d '"\\')"; fi
        else note "PyTorch or RVC_SRC missing: RVC numbers are ours only"; fi
        for p in fp32 bf16; do
          $U VCS_PRECISION=$p "$BIN" bench rvc 2>/dev/null | sed "s/^{/{\"side\":\"ours\",\"precision\":\"$p\",/" | tag "$s"
        done ;;
      f5)
        if have_torch && [ -n "${F5TTS_SRC:-}" ] && [ -n "${VOCOS_SRC:-}" ]; then
          if F5TTS_SRC=$F5TTS_SRC VOCOS_SRC=$VOCOS_SRC $U $PY "$PERF/pytorch_f5tts.py" --json "$tmp/f5.json" >"$tmp/f5.log" 2>&1; then
            echo "{\"side\":\"pytorch\",\"f5\":$(cat "$tmp/f5.json")}" | tag "$s"
          else note "PyTorch F5 side failed: $(tail -n 1 "$tmp/f5.log" | tr -d '"\\')"; fi
        else note "PyTorch or F5TTS_SRC/VOCOS_SRC missing: F5 numbers are ours only"; fi
        for p in fp32 bf16; do
          $U VCS_PRECISION=$p "$BIN" bench f5tts 2>/dev/null | sed "s/^{/{\"side\":\"ours\",\"precision\":\"$p\",/" | tag "$s"
        done ;;
      train)
        for cfg in $TRAIN_CONFIGS; do
          case $cfg in v[12]-32k|v[12]-40k|v[12]-48k) ;; *) note "TRAIN_CONFIGS: $cfg is not VERSION-RATE (v1 or v2, 32k, 40k or 48k)"; continue ;; esac
          v=${cfg:1:1}; k=${cfg#*-}; sr=${k%k}000 # v2-40k -> 2, 40000
          if have_torch && [ -n "${RVC_SRC:-}" ] && [ -d "$RVC_SRC" ]; then
            if $U $PY bench/engine/pytorch_rvc_train.py --rvc-src "$RVC_SRC" --perf "$PERF" --version "$v" --sr "$sr" $TRAIN_CHECK \
               --out "$tmp/train.json" >"$tmp/train.log" 2>&1; then
              echo "{\"side\":\"pytorch\",\"train\":$(cat "$tmp/train.json")}" | tag "$s"
            else note "PyTorch training side ($cfg) failed: $(tail -n 1 "$tmp/train.log" | tr -d '"\\')"; fi
          else note "PyTorch or RVC_SRC missing: training numbers are ours only"; fi
          for p in fp32 bf16; do # bf16: mixed precision, fp32 master weights
            $U VCS_PRECISION=$p "$BIN" bench rvc train --version "$v" --sr "$sr" $TRAIN_CHECK 2>/dev/null | sed 's/^{/{"side":"ours",/' | tag "$s"
          done
        done ;;
    esac
  done
done
