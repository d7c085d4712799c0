# idemproof as an image: `docker compose up --build --exit-code-from idemproof` uses it for the
# demo target and for the one-shot run. Toxiproxy and PostgreSQL come from their own images.
FROM node:20-bookworm-slim AS build
WORKDIR /idemproof
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /idemproof
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /idemproof/dist ./dist
COPY scenarios ./scenarios
ENTRYPOINT ["node", "dist/cli/bin.js"]
CMD ["--help"]
