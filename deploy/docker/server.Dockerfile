# syntax=docker/dockerfile:1.7
# One image per archbench server process, chosen by the APP build argument:
#   docker build -f deploy/docker/server.Dockerfile --build-arg APP=gateway -t archbench-gateway .
# APP: monolith | gateway | inventory | orders | payments | shipping | hybrid-core | hybrid-shipping
# The build context is the repository root; server.Dockerfile.dockerignore (BuildKit reads the
# ignore file named after the Dockerfile) keeps node_modules, data and results out of it.

# ---- build: the workspace with its dev tools, the same esbuild bundle the launchers run -------
FROM node:24.22.3-bookworm-slim AS build
# No compiler: nothing in the workspace builds from source (better-sqlite3 ships prebuilt Node-API
# binaries for linux x64/arm64, esbuild and workerd download theirs).
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN npm install -g "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")" \
  && pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile
ARG APP
# Bundles src/<APP>'s entry with the launchers' bundler (@archbench/topologies/bundle) and traces the node_modules files it
# loads at run time into /out/$APP/rootfs (laid out as the runtime's `/`).
RUN test -n "$APP" && pnpm --filter @archbench/deploy bundle -- --out /out "$APP"

# ---- runtime: Node and the traced files only; no package manager, no dev dependency ----------
FROM node:24.22.3-bookworm-slim AS runtime
ARG APP
ARG PORT=3000
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    DATA_DIR=/data
COPY --from=build /out/${APP}/rootfs/ /
# SQLite files live in /data (a volume or an emptyDir); the root filesystem can stay read-only.
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /app
EXPOSE ${PORT}
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; every server drains and closes its
# databases on SIGTERM (server-kit's serveWithShutdown). Same flags as the launchers.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=256", "/app/server.mjs"]
