# quorumkv node image. Multi-stage: the build stage compiles TypeScript with the dev
# dependencies; the runtime stage has only the compiled JavaScript, the proto files and
# the production dependencies, and runs as a non-root user with a read-only root file
# system in mind (all state lives under /var/lib/quorumkv, a volume).
#
# Signals: node is PID 1 and `qkv server` handles SIGTERM and SIGINT itself (it drains,
# syncs the WAL and exits 0); it starts no child processes, so no init is needed to
# reap zombies. Node ignores signals without handlers as PID 1, which is why the
# handlers are explicit in src/cli/commands/server-command.ts.
#
# Node 24 is the current LTS line; the code targets Node 20+ (package.json engines).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm ci` refuses the lock when optional platform packages are missing from the
# registry (see .ci/run); `npm install` then installs the same locked versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY scripts ./scripts
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund) \
 && npm cache clean --force \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /src/dist/src ./dist/src
COPY proto ./proto
RUN groupadd --system --gid 10001 quorumkv \
 && useradd --system --uid 10001 --gid quorumkv --home-dir /var/lib/quorumkv --shell /usr/sbin/nologin quorumkv \
 && mkdir -p /var/lib/quorumkv && chown quorumkv:quorumkv /var/lib/quorumkv
USER 10001:10001
VOLUME ["/var/lib/quorumkv"]
ENV QKV_DATA_DIR=/var/lib/quorumkv
EXPOSE 7400 7480
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["server"]
