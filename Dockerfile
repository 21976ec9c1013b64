# One image for every service; docker-compose.yml picks the entry point per container.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
# Said explicitly, though an unset NODE_ENV means production too (lib/config.ts); graphql-js reads it as well.
ENV NODE_ENV=production
USER node
