#!/usr/bin/env bash
# Installs the Debian packages VoiceClone Studio needs to build, run and test.
# Idempotent: does nothing when every package is already installed; uses sudo when not root.
set -euo pipefail

PACKAGES=(
  gcc g++ make pkg-config
  libmicrohttpd-dev libsqlite3-dev sqlite3 libjansson-dev libssl-dev
  libsndfile1-dev libmp3lame-dev libsoxr-dev libebur128-dev libkissfft-dev
  libopenblas-dev libopenblas0-pthread libdnnl-dev libcmocka-dev
  libcurl4-openssl-dev zlib1g-dev
  libpq-dev postgresql
  golang-github-mozillazg-go-pinyin-dev
  clang libclang-rt-14-dev
  sox libsox-fmt-all espeak-ng curl wrk nginx-light
  chromium fonts-dejavu-core
)
# espeak-ng: test speech, and the quick clone's pre-loaded sample target, made at web build time
# from a fixed text (scripts/make-sample.sh): generated, so no recording with a licence to ship.
# golang-github-mozillazg-go-pinyin-dev: only its data file (Chinese → pinyin readings, MIT) is
# used, by the F5-TTS text front end (src/models/f5tts/f5tts_pinyin.h); no Go toolchain needed.
# libpq-dev: the PostgreSQL client library (--database postgres://…); postgresql: the server the
# tests start in a temp folder (scripts/pg-tmp.sh). Installing it may register a `main` cluster
# service; the studio never uses that one.
# The web UI needs Node.js >= 20 with npm; use the machine's if present, else Debian's.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
