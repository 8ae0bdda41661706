# walaudit's CLI and services, for docker-compose.yml. Two stages: the build stage has the compilers
# and -dev packages, the runtime stage only Node 24, the shared libraries the librdkafka binding
# links against, and the built app.

FROM node:24-bookworm-slim AS build
# The reader's producer (@confluentinc/kafka-javascript) is compiled when its prebuilt binary cannot
# be fetched, against these libraries (CKJS_LINKING=dynamic: the default static build downloads
# zlib and OpenSSL sources). libssl and libsasl2 give kafka.ssl and kafka.saslMechanism.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev \
 && rm -rf /var/lib/apt/lists/*
ENV CKJS_LINKING=dynamic
# node-gyp compiles against the image's own Node headers (/usr/local/include/node) instead of
# downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages packages
COPY services services
COPY schemas schemas
# npm ci builds dist/ (root `prepare`); then the compilers' leftovers go: dev dependencies
# (typescript, vitest, turbo, the test servers; the other Postgres majors the tests start are optional
# dependencies, which prune keeps, so they are removed by name) and the binding's librdkafka sources, objects and
# static archives. What it loads stays: build/Release/*.node and build/deps/*.so.* (its RUNPATH).
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/postgres-14 node_modules/postgres-16 node_modules/postgres-17 \
 && npm cache clean --force \
 && ckjs=node_modules/@confluentinc/kafka-javascript \
 && rm -rf "$ckjs/deps" "$ckjs/build/Release/obj.target" "$ckjs/build/deps/librdkafka" \
 && if [ -d "$ckjs/build" ]; then find "$ckjs/build" -name '*.a' -delete; fi

FROM node:24-bookworm-slim
# The runtime libraries of the binding built above (libssl3, libsasl2-2, zlib1g, libzstd1,
# liblz4-1); libstdc++ comes with Node's image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libsasl2-2 zlib1g libzstd1 liblz4-1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app /app
ENTRYPOINT ["node", "services/cli/bin/walaudit.js"]
