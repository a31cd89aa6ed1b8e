# syntax=docker/dockerfile:1
#
# cellsweep coordinator image (also the whole CLI: `cellsweep coordinator`,
# `cellsweep sweep FILE --coordinator ADDR`, and CPU trainers on the wasm backend).
#
# Base: the official Node image, Node 20 (the version the project is tested on,
# package.json engines >=20) on Debian 12 "bookworm" slim, the same Debian as
# the development and CI machines. Pinned to an exact version tag; pin the digest
# too (FROM node:20.20.2-bookworm-slim@sha256:...) where builds must be
# reproducible: tags are re-pushed with Debian security updates.
#
# No build step: TypeScript runs through tsx at runtime (bin/cellsweep.mjs), so
# the image holds the sources and production dependencies only.
#
# Build from the repository root (deploy/docker/README.md):
#   docker build -f deploy/docker/coordinator.Dockerfile -t cellsweep/coordinator:0.1.0 .

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the lock file's versions, without devDependencies (helm, tsc, buf).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root: the non-root user reads them and cannot change them.
COPY --from=deps /app/node_modules ./node_modules
# tsconfig.json: tsx reads it, so sources compile as they do in development and CI.
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY coordinator ./coordinator
COPY trainer ./trainer
COPY proto ./proto
RUN ln -s /app/bin/cellsweep.mjs /usr/local/bin/cellsweep \
 && groupadd --system --gid 10001 cellsweep \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cellsweep
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
# gRPC (StudyService + grpc.health.v1) and HTTP metrics/health.
EXPOSE 50051 9464
ENTRYPOINT ["node", "/app/bin/cellsweep.mjs"]
CMD ["help"]
