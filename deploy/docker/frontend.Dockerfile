# syntax=docker/dockerfile:1.7
# The order console: the Vite build plus its small Hono server (serves dist/, proxies /api/*).
#   docker build -f deploy/docker/frontend.Dockerfile -t archbench-frontend .
# The build context is the repository root; frontend.Dockerfile.dockerignore applies (BuildKit).

# ---- build -------------------------------------------------------------------------------
FROM node:24.22.3-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN npm install -g "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")" \
  && pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
  && pnpm --filter @archbench/frontend build \
  && pnpm --filter @archbench/deploy bundle -- --out /out frontend

# ---- runtime -----------------------------------------------------------------------------
FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5173 \
    DIST_DIR=/app/dist
COPY --from=build /out/frontend/rootfs/ /
USER node
WORKDIR /app
EXPOSE 5173
# The console's server answers /health itself (before the SPA fallback that answers other paths).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "/app/server.mjs"]
