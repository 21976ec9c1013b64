# One image for every service: the command names what runs (docker-compose.yml, deploy/k8s):
#   node dist/scripts/subgraph.js <subgraph>   node dist/gateway/index.js   node dist/scripts/migrate.js [<subgraph>…]

# Build: the whole dependency tree (TypeScript), then `npm run build` compiles to dist/ with the schemas and
# static pages beside the code.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime: production dependencies and the compiled code only; no sources, nothing runs through tsx.
# No optional ones either: they are the embedded PostgreSQL's and esbuild's platform binaries (npm start, tsx),
# which production never runs.
FROM node:20-bookworm-slim
# Said explicitly, though an unset NODE_ENV means production too (lib/config.ts); graphql-js reads it as well.
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's unprivileged user; the code stays root-owned, so the process cannot change it.
USER node
EXPOSE 4000 3001-3020
CMD ["node", "dist/gateway/index.js"]
