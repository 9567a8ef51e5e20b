# One image for every project service; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# The Kafka client builds its bundled librdkafka against Debian's libraries.
ENV CKJS_LINKING=dynamic
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY ingest ingest
COPY processors processors
COPY schemas schemas
COPY sink sink
COPY deploy deploy
COPY bench bench
RUN npx tsc -p tsconfig.json && cp -r schemas/avro dist/schemas/avro && mkdir -p dist/schemas/postgres && cp -r schemas/postgres/migrations dist/schemas/postgres/migrations && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libzstd1 liblz4-1 libsasl2-2 zlib1g \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
ENV NODE_ENV=production
CMD ["node", "dist/ingest/main.js"]
