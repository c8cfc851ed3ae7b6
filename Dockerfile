# One image for every NextAct service; the SERVICE build arg (or env at run time) picks which one runs:
#   docker build --build-arg SERVICE=engine -t nextact-engine .
#   docker run -e SERVICE=gateway nextact ...
# Services run from TypeScript sources through tsx (a root devDependency), so dev dependencies stay.
FROM node:24-slim

WORKDIR /app

# Manifests first: the dependency layer is rebuilt only when a manifest changes.
COPY package.json package-lock.json ./
COPY services/core/package.json services/core/
COPY services/gateway/package.json services/gateway/
COPY services/engine/package.json services/engine/
COPY services/analytics/package.json services/analytics/
COPY services/simulator/package.json services/simulator/
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .

ARG SERVICE=gateway
# Containers are reached over the compose network, so listen on all interfaces (the host side
# is still loopback-only: docker-compose.yml publishes ports on 127.0.0.1).
ENV SERVICE=${SERVICE} \
    HTTP_HOST=0.0.0.0

# Service state (engine checkpoints, embedded ClickHouse when CLICKHOUSE_URL is unset) lives here.
RUN mkdir -p /app/.stack/data && chown -R node:node /app/.stack
USER node

# sh expands $SERVICE at run time; exec hands PID 1 to npx, which forwards SIGTERM to the service
# (each main.ts drains and exits on SIGTERM).
CMD ["sh", "-c", "exec npx --no-install tsx services/$SERVICE/src/main.ts"]
