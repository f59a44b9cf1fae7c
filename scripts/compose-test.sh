#!/usr/bin/env bash
# make compose-test: builds the images (Dockerfile), starts postgres + api + 2 workers
# (compose.yaml), runs upload → preprocess and voice import → convert through the API, and tears
# everything down.
#
# Engine: podman-compose when present (with runc and the ulimits docs/OPERATIONS.md names),
# else `docker compose`. BASE picks the base image (default debian:12; localhost/debian:12 for a
# debootstrap-made one). The convert step uses the repository's tiny random-weight HuBERT/RMVPE
# and test voice (no downloads): it checks the plumbing, not the sound. SKIP_BUILD=1 uses images
# built before.
# Podman with the CNI backend needs the dnsname plugin (Debian:
# golang-github-containernetworking-plugin-dnsname) so that services find each other by name.
set -euo pipefail
cd "$(dirname "$0")/.."
export VCS_DB_PASSWORD=${VCS_DB_PASSWORD:-compose-test-$$}
export VCS_PORT=${VCS_PORT:-18080}
export BASE=${BASE:-debian:12}
export VCS_WORKERS=2 # podman-compose 1.0.3 ignores `up --scale`; compose.yaml reads this
if command -v podman-compose >/dev/null 2>&1; then
  compose=(podman-compose --podman-args="--runtime runc"
           --podman-run-args="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
           --podman-build-args="--isolation=chroot --ulimit nofile=1024:1024 --ulimit nproc=1024:1024")
else
  compose=(docker compose)
fi
project=vcs-compose-test
down() { "${compose[@]}" -p "$project" down -v >/dev/null 2>&1 || true; }
trap down EXIT
[ "${SKIP_BUILD:-0}" = 1 ] || "${compose[@]}" -p "$project" build
"${compose[@]}" -p "$project" up -d --scale worker=2
base="http://127.0.0.1:$VCS_PORT"
for i in $(seq 1 120); do curl -fsS "$base/api/health" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$base/api/health" >/dev/null
key=$("${compose[@]}" -p "$project" exec -T api voiceclone keys create --user compose --data /data 2>/dev/null | grep -m1 '^vcs_' || true)
[ -n "$key" ] || { echo "compose-test: could not create an API key" >&2; exit 1; }
auth="Authorization: Bearer $key"
wav=$(mktemp --suffix .wav)
sox -n -r 44100 -c 1 "$wav" synth 12 sine 220 vol 0.5
audio=$(curl -fsS -H "$auth" -F "file=@$wav;filename=take.wav" "$base/api/upload/target-audio" |
        sed -n 's/.*"file_id":"\([^"]*\)".*/\1/p')
rm -f "$wav"
[ -n "$audio" ] || { echo "compose-test: upload failed" >&2; exit 1; }
job=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"audio_id\":\"$audio\",\"options\":{\"normalize_volume\":true}}" "$base/api/preprocess" |
      sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
for i in $(seq 1 120); do
  st=$(curl -fsS -H "$auth" "$base/api/jobs/$job" | sed -n 's/.*"status":"\([^"]*\)".*/\1/p')
  case "$st" in complete) break ;; failed|cancelled) echo "compose-test: preprocess $st" >&2; exit 1 ;; esac
  sleep 1
done
[ "$st" = complete ] || { echo "compose-test: preprocess did not finish" >&2; exit 1; }
worker=$(curl -fsS -H "$auth" "$base/api/jobs/$job" | sed -n 's/.*"worker":"\([^"]*\)".*/\1/p')
echo "compose-test: upload → preprocess complete on worker $worker"
n=$("${compose[@]}" -p "$project" ps 2>/dev/null | grep -c "_worker_" || true)
echo "compose-test: $n worker containers"
[ "$n" -ge 2 ] || { echo "compose-test: expected 2 workers" >&2; exit 1; }
# convert: the tiny golden HuBERT and RMVPE go into the shared volume the way an offline user installs
# base models (`voiceclone models import FILE --to FOLDER --as NAME`, inside the api container), a small
# RVC voice (tests/models/rvc/fixtures) is imported through the API, and a worker converts a 1 s clip
put() { "${compose[@]}" -p "$project" exec -T api sh -c "cat > /tmp/$2" < "$1"; }
install_base() { # file in the container's /tmp, folder, name
  "${compose[@]}" -p "$project" exec -T api voiceclone models import "/tmp/$1" --to "$2" --as "$3" --data /data >/dev/null
}
put tests/golden/rvc/hubert_small/hubert_fairseq_style.pt hubert.pt
put tests/golden/rvc/rmvpe_small/rmvpe.safetensors rmvpe.safetensors
install_base hubert.pt hubert hubert_base.pt
install_base rmvpe.safetensors rmvpe rmvpe.pt
model=$(curl -fsS -H "$auth" -F "file=@tests/models/rvc/fixtures/voice_v2_96.pth" -F name=compose \
          "$base/api/models/import" | sed -n 's/.*"model_id":"\([^"]*\)".*/\1/p')
[ -n "$model" ] || { echo "compose-test: voice import failed" >&2; exit 1; }
target=$(curl -fsS -H "$auth" -F "file=@tests/golden/rvc/pipeline_v2_e2e/input.wav;filename=clip.wav" \
           "$base/api/upload/target-audio" | sed -n 's/.*"file_id":"\([^"]*\)".*/\1/p')
[ -n "$target" ] || { echo "compose-test: target upload failed" >&2; exit 1; }
job=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"model_id\":\"$model\",\"target_audio_id\":\"$target\"}" "$base/api/convert/rvc" |
      sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p')
[ -n "$job" ] || { echo "compose-test: convert was not accepted" >&2; exit 1; }
for i in $(seq 1 300); do
  st=$(curl -fsS -H "$auth" "$base/api/jobs/$job" | sed -n 's/.*"status":"\([^"]*\)".*/\1/p')
  case "$st" in complete) break ;; failed|cancelled) curl -sS -H "$auth" "$base/api/jobs/$job" >&2; echo; echo "compose-test: convert $st" >&2; exit 1 ;; esac
  sleep 1
done
[ "$st" = complete ] || { echo "compose-test: convert did not finish" >&2; exit 1; }
out=$(curl -fsS -H "$auth" "$base/api/jobs/$job" | sed -n 's/.*"output_audio_id":"\([^"]*\)".*/\1/p')
worker=$(curl -fsS -H "$auth" "$base/api/jobs/$job" | sed -n 's/.*"worker":"\([^"]*\)".*/\1/p')
bytes=$(curl -fsS -H "$auth" "$base/api/download/$out" | wc -c)
[ "$bytes" -gt 44 ] || { echo "compose-test: the converted file is empty" >&2; exit 1; }
echo "compose-test: convert complete on worker $worker ($bytes bytes of WAV from the api node)"
