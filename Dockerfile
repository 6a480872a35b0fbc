# syntax=docker/dockerfile:1
# lookout: build with dev dependencies, run with production ones, as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the root package's "prepare" would compile before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY protos ./protos
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# ffmpeg from the distribution (patched, with its codecs); tini reaps ffmpeg children and forwards SIGTERM.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY protos ./protos
COPY assets ./assets
COPY media ./media
COPY web ./web
USER node
# 8080: HTTP and WebSocket. 8500: gRPC, when the image runs `model-server`.
EXPOSE 8080 8500
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/cli.js"]
CMD ["serve"]
