# VoiceClone Studio images, from Debian 12 packages only (no other registry content).
#
#   target `studio`   (default) the voiceclone binary: `serve` (api) or `worker` (compose.yaml)
#   target `postgres` Debian's PostgreSQL 15 with a small entrypoint (scripts/docker-postgres.sh)
#
# BASE is the Debian 12 image to build on: `debian:12` from a registry, or a local one made with
# debootstrap where no registry is reachable (docs/OPERATIONS.md, "Containers"):
#   docker build --build-arg BASE=debian:12 -t voiceclone-studio .
#   podman build --isolation=chroot --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
#       --build-arg BASE=localhost/debian:12 -t voiceclone-studio .
# The binary is built with -march=x86-64-v3 (see Makefile): the images need an x86-64-v3 CPU.
ARG BASE=debian:12

FROM ${BASE} AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gcc make pkg-config ca-certificates \
      libmicrohttpd-dev libsqlite3-dev libjansson-dev libssl-dev libsndfile1-dev libmp3lame-dev \
      libsoxr-dev libebur128-dev libkissfft-dev libopenblas-dev libcurl4-openssl-dev zlib1g-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src ./src
# only the binary: the test tree is not needed in an image
RUN make -j"$(nproc)" build/voiceclone TEST_DIRS=src

FROM ${BASE} AS studio
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libmicrohttpd12 libsqlite3-0 libjansson4 libssl3 libsndfile1 libmp3lame0 libsoxr0 libebur128-1 \
      libkissfft-float131 libopenblas0-pthread libcurl4 zlib1g libpq5 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data vcs && mkdir -p /data && chown vcs /data
COPY --from=build /src/build/voiceclone /usr/local/bin/voiceclone
# The built web UI (web/dist, `make build`) is optional: without it `/` serves a short page.
USER vcs
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["voiceclone"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--data", "/data"]

FROM ${BASE} AS postgres
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql-15 \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/postgresql/data \
    && chown postgres /var/lib/postgresql/data
COPY scripts/docker-postgres.sh /usr/local/bin/docker-postgres.sh
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
ENTRYPOINT ["bash", "/usr/local/bin/docker-postgres.sh"]

# `docker build .` without --target builds the studio image
FROM studio
