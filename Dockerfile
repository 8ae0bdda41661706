# walaudit's CLI and services, for docker-compose.yml. `npm ci` builds dist/ (root `prepare`).
FROM node:20-bookworm-slim
# The reader's producer (@confluentinc/kafka-javascript) is compiled when its prebuilt binary cannot
# be fetched: against these libraries (CKJS_LINKING=dynamic), which stay in the image for run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 pkg-config libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev \
 && rm -rf /var/lib/apt/lists/*
ENV CKJS_LINKING=dynamic
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages packages
COPY services services
COPY schemas schemas
RUN npm ci --no-audit --no-fund && npm cache clean --force
ENTRYPOINT ["node", "services/cli/bin/walaudit.js"]
