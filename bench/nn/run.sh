#!/usr/bin/env bash
# Engine benchmarks: matrix-multiply-class ops vs sgemm, then full-size F5-TTS + Vocos and the
# RVC conversion path (HuBERT base, RMVPE, v2 48k synthesizer, a whole 10 s conversion).
# Runs once with the environment as set (OPENBLAS_CORETYPE=Haswell caps OpenBLAS at AVX2) and
# once with it unset, so both columns of docs/PERFORMANCE.md ("PyTorch baseline") can be compared like for like.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build/voiceclone}
"$BIN" bench gemm
"$BIN" bench f5tts
"$BIN" bench rvc
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BIN" bench gemm
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BIN" bench f5tts
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$BIN" bench rvc
