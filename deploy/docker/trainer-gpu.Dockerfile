# syntax=docker/dockerfile:1
#
# cellsweep GPU trainer image: `cellsweep trainer --nats URL --backend tensorflow`
# on @tensorflow/tfjs-node-gpu.
#
# Base: nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04. Why this one:
# - @tensorflow/tfjs-node-gpu 4.22.0 binds libtensorflow 2.9.1
#   (LIBTENSORFLOW_VERSION in its scripts/deps-constants.js). The tfjs-node
#   README asks for CUDA 11.2 and cuDNN 8.1 for it (TensorFlow 2.9's tested
#   build configuration), with an NVIDIA driver >= 450.
# - libtensorflow 2.9 loads the CUDA 11 libraries by their CUDA-11 sonames
#   (libcudart.so.11.0, libcublas.so.11, libcufft.so.10, libcusolver.so.11,
#   libcusparse.so.11) and libcudnn.so.8. CUDA 11.8 ships the same sonames
#   (CUDA minor-version compatibility within 11.x) and cuDNN 8 keeps its ABI,
#   so the 11.8 runtime + cuDNN 8 image serves libtensorflow 2.9. CUDA 12 or
#   cuDNN 9 would not (different sonames: "Could not load dynamic library
#   libcudart.so.11.0", tensorflow/tfjs#8362).
# - 11.8 rather than 11.2: NVIDIA deletes the tags of end-of-life CUDA releases
#   from Docker Hub (11.2.0 and 11.2.1 are gone); 11.8 is the last CUDA 11 and
#   its runtime libraries know Hopper GPUs (H100/H200). The node's driver must
#   support CUDA 11.8 (>= 520), or be a datacenter driver >= 450 through CUDA's
#   minor-version compatibility.
# - TensorFlow 2.9 has no kernels compiled for GPUs newer than Ampere; on those
#   the driver compiles its PTX at start (minutes). CUDA_CACHE_PATH keeps that
#   cache in /tmp (the chart's emptyDir; the root filesystem is read-only), so a
#   container restart reuses it.
# Pinned to an exact tag; pin the digest too (@sha256:...) for reproducible
# builds. Node comes from the official Node 20 image (its binaries need glibc
# >= 2.28; Ubuntu 22.04 has 2.35).
#
# The tfjs-node-gpu install script downloads libtensorflow-gpu-linux-x86_64-2.9.1
# from storage.googleapis.com/tensorflow/libtensorflow and the prebuilt N-API
# addon from storage.googleapis.com/tf-builds (node-pre-gyp; if that download
# fails it compiles the addon, hence python3, make and g++ in the build stage).
# The build needs that host; set TFJS_NODE_CDN_STORAGE or TFJS_NODE_BASE_URI
# (read by the install script) to use a mirror.
#
# Build from the repository root (deploy/docker/README.md):
#   docker build -f deploy/docker/trainer-gpu.Dockerfile -t cellsweep/trainer-gpu:0.1.0 .

ARG NODE_IMAGE=node:20.20.2-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04

FROM ${NODE_IMAGE} AS node

FROM ${CUDA_IMAGE} AS deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /app
COPY package.json package-lock.json ./
# The lock file's production dependencies, then tfjs-node-gpu beside them without
# recording it (it is not a dependency of the project: every other machine
# trains on the wasm backend, and it cannot install without the download host).
# Its install script must run; npm >= 11 runs only allowed scripts, hence
# --allow-scripts (older npm warns about the unknown option and runs it anyway).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm install --no-save --omit=dev --no-audit --no-fund \
      --allow-scripts=@tensorflow/tfjs-node-gpu @tensorflow/tfjs-node-gpu@4.22.0 \
 && node -e "require.resolve('@tensorflow/tfjs-node-gpu')" \
 && npm cache clean --force

FROM ${CUDA_IMAGE}
ENV NODE_ENV=production \
    CUDA_CACHE_PATH=/tmp/cuda-cache
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
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
USER 10001:10001
# HTTP metrics/health; a cluster trainer serves nothing else.
EXPOSE 9464
ENTRYPOINT ["node", "/app/bin/cellsweep.mjs"]
CMD ["help"]
