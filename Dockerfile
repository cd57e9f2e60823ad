# syntax=docker/dockerfile:1
#
# syndicate: deps (every dependency) → build (tsc → dist/, esbuild → dist/main.js) → runtime (production
# dependencies only). The image runs the bundled dist/main.js with node directly (not through npm, so SIGTERM reaches it);
# typescript and tsx are devDependencies and are not in it.
#
#   docker build -t syndicate .
#   docker run -p 3000:3000 -e ADMIN_TOKEN=$(openssl rand -hex 24) -v syndicate-data:/data syndicate
#
# Without DATABASE_URL the data lives in embedded PGlite under /data (one container per volume);
# with DATABASE_URL=postgres://… it uses that Postgres (see compose.yaml).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: everything the build needs (typescript is a devDependency) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# --ignore-scripts: no dependency needs an install script to build or run (swagger-ui-dist's @scarf/scarf
# would report the install to a third party), and our own `prepare` must not build before src/ is here.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build: `npm run build` → dist/ (tsc, the esbuild bundle, the migrated PGlite template) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY migrations ./migrations
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, dist/, migrations/; non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000 \
    SCARF_ANALYTICS=false
WORKDIR /app
# package.json is needed at run time: "type": "module" makes dist/*.js ES modules. --ignore-scripts as
# above (and there is no compiler here for `prepare`).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at start-up from migrations/ under the package root (the folder holding package.json), i.e. /app/migrations.
COPY migrations ./migrations
# The node images ship an unprivileged user "node" (uid 1000). The volume directory is created and
# handed to it before VOLUME, so a new named volume starts out owned by that user.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# SIGTERM: stop accepting, finish in-flight requests (up to SHUTDOWN_TIMEOUT_MS, default 10 s), close
# the database. Give the container a stop timeout above that (compose: stop_grace_period).
STOPSIGNAL SIGTERM
# Liveness only (the process answers). Slim images have no curl: use Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"]
CMD ["node", "dist/main.js"]
