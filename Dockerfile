# The Swarm hub as a container image (docs/deployment.md, "Container image").
#
#   docker build -t swarm .            (or: podman build --format docker -t swarm .)
#   docker run -d -p 8080:8080 -v swarm-data:/data swarm
#   docker exec CONTAINER swarm agents
#
# Two stages: the builder compiles better-sqlite3 (a native module) and the TypeScript, then drops
# the development dependencies; the runtime gets production dependencies and dist/src only (no
# tests, no compiler), runs as the unprivileged `node` user (uid 1000) under tini, and writes only
# to /data, so it runs with a read-only root filesystem.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# better-sqlite3 is compiled here against the image's own Node headers: no prebuilt binary or
# header download from outside the npm registry.
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
# Behind a proxy with its own certificate authority: --build-arg NODE_EXTRA_CA_CERTS=<file>, with
# the file mounted into the build (podman build -v, docker build --secret); this stage only.
ARG NODE_EXTRA_CA_CERTS=
COPY package.json package-lock.json ./
# npm ls: npm 10 can exit 0 after a failed fetch ("Exit handler never called"); a missing package
# stops the build here, not later.
RUN npm ci && npm ls >/dev/null
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/
COPY bin bin
COPY src src
# build.mjs type-checks, compiles, bundles the CLI and writes its V8 code cache (made by this
# stage's Node, the same binary as the runtime's). Then only what the runtime needs is kept.
RUN node scripts/build.mjs \
 && npm prune --omit=dev \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src build/Release/obj build/Release/obj.target build/Release/sqlite3.a build/Release/test_extension.node build/deps build/*.mk build/Makefile build/config.gypi

FROM ${NODE_IMAGE}
# tini as PID 1: passes SIGTERM to the hub (which drains and exits 0) and reaps any orphan.
# apt's lists and package caches go in the same layer (pkgcache.bin alone is tens of MB).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir /data && chown node:node /data && chmod 0700 /data
WORKDIR /app
COPY --from=builder /src/package.json ./
COPY --from=builder /src/node_modules node_modules
COPY --from=builder /src/bin bin
COPY --from=builder /src/dist/src dist/src
# The web dashboard the hub serves at / (docs/dashboard.md).
COPY --from=builder /src/dist/dashboard dist/dashboard
COPY deploy/image/healthcheck.cjs deploy/image/healthcheck.cjs
RUN ln -s /app/bin/swarm.cjs /usr/local/bin/swarm && swarm --version
# SWARM_HOST: reachable from outside the container. SWARM_DATA: the embedded store and the admin
# token, where the CLI run in the container (`docker exec C swarm …`) finds them too.
ENV NODE_ENV=production \
    SWARM_HOST=0.0.0.0 \
    SWARM_DATA=/data
USER node
VOLUME /data
# api/all 8080, config 8081, worker 8082 (swarm serve --role).
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/image/healthcheck.cjs"]
ENTRYPOINT ["/usr/bin/tini", "--", "swarm"]
CMD ["serve"]
# Last, so that a new revision changes only the labels, not the cached layers above.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="swarm" \
      org.opencontainers.image.description="Messaging and coordination hub for swarms of AI agents" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/deployment.md#container-image"
