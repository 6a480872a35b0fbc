# syntax=docker/dockerfile:1
# lookout: built with dev dependencies, run with production ones as a non-root user.
#   docker build -t lookout .
#   export LOOKOUT_TOKEN="$(openssl rand -hex 24)"                        # keep it: the admin's secret
#   docker run --rm -p 8080:8080 -e LOOKOUT_TOKEN -v lookout-data:/data lookout   # the demo camera, embedded model
#   docker run --rm -p 8080:8080 -e LOOKOUT_TOKEN -v lookout-data:/data -v "$PWD/my-config:/config:ro" lookout
# See docs/deploy.md.
#
# Authentication. The image's config listens on 0.0.0.0 (a container must, to
# be reached through -p), and lookout refuses to listen beyond loopback without
# authentication: with none, it exits 2 naming the keys. Give it at least one of
#   - LOOKOUT_TOKEN (-e LOOKOUT_TOKEN, or --env-file): the shared admin token, at
#     least 16 characters. "Authorization: Bearer TOKEN", or the login page with
#     an empty user name.
#   - a user in the users file, /data/users.db on the volume (beside the
#     detection log, /data/lookout.db), added once before the first start:
#       docker run --rm -it -v lookout-data:/data lookout user add alice --role admin
#     (-it asks for the password twice; with -i alone, and no -t, it is read from
#     the first line of standard input). Later, in the running container:
#       docker exec -it CONTAINER node dist/src/cli.js user add bob --role viewer
#     A running lookout picks users up within a second. Both forms find
#     /data/users.db without --config: the default store path, data/lookout.db
#     in the working directory /app, is /data through the /app/data link below.
#     With a config of your own that moves store.path or auth.usersFile, add
#     --config /config/lookout.yaml.
#   - auth.trustedProxy in your config, behind a proxy that authenticates
#     (Authelia, oauth2-proxy, …): name the proxy's own address, and publish
#     lookout's port to nobody but it (docs/deploy.md).
# LOOKOUT_AUTH_ENABLED=false runs with no authentication at all, warned about at
# every start: only on a network you trust entirely.

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its addon with node-gyp when no prebuilt binary can be
# downloaded (prebuild-install fetches from GitHub): python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp takes Node's headers from the image (/usr/local/include/node)
# instead of downloading them, so a build that reaches only the npm registry works.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies in their own layer, cached until the lockfile changes.
# --ignore-scripts keeps the root package's "prepare" (tsc) from running before
# the sources are here; `npm rebuild` then runs the dependencies' own install
# scripts (better-sqlite3's addon, @ffmpeg-installer's chmod, protobufjs).
RUN npm ci --ignore-scripts && npm rebuild
COPY tsconfig.json ./
COPY protos ./protos
COPY src ./src
COPY bench ./bench
# `npm run build` is tsc -p tsconfig.json: dist/src (the CLI) and dist/bench.
# The image runs Debian's ffmpeg, so the static build inside @ffmpeg-installer
# (about 70 MB) goes; lookout finds ffmpeg on PATH first anyway.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf node_modules/@ffmpeg-installer/linux-* node_modules/better-sqlite3/deps node_modules/better-sqlite3/build/Release/obj*

FROM node:20-bookworm-slim
# ffmpeg from Debian (patched, with its codecs); tini as PID 1 reaps exited
# ffmpeg children and passes SIGTERM on, so lookout shuts down in order.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY protos ./protos
COPY assets ./assets
COPY media ./media
COPY web ./web
COPY grafana ./grafana
COPY lookout.example.yaml LICENSE README.md ./
# The default config: the demo camera, the embedded model server, the log in /data.
# Mount a folder of your own at /config to replace it.
COPY deploy/docker/lookout.yaml /config/lookout.yaml
# The detection log lives in /data. A config that keeps store.path's default
# (data/lookout.db, relative to the working directory) lands there too.
RUN mkdir -p /data \
 && chown node:node /data \
 && ln -s /data /app/data
VOLUME ["/data"]
# The node user of the base image (uid 1000, gid 1000).
USER node
# 8080: HTTP and WebSocket. 8500: gRPC, when the image runs `model-server`.
EXPOSE 8080 8500
# Liveness as /healthz reports it; node's fetch, as the image has no curl.
# /healthz (and /readyz) need no login, so the check needs no token.
# The port is the default http.port: change both together.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --initial-old-space-size: as the bin's shebang and `npm start` (README, "Node's heap").
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--initial-old-space-size=128", "dist/src/cli.js"]
CMD ["serve", "--config", "/config/lookout.yaml"]
