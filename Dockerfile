# walaudit's CLI and services, for docker-compose.yml. `npm ci` builds dist/ (root `prepare`).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages packages
COPY services services
COPY schemas schemas
RUN npm ci --no-audit --no-fund && npm cache clean --force
ENTRYPOINT ["node", "services/cli/bin/walaudit.js"]
