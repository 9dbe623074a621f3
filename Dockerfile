# The chat service image: TypeScript compiled with dev dependencies, shipped with production dependencies only.
# The packaging-contract test (test/packaging/image-contract.test.ts) replays these steps without Docker; keep them in step.

# Node 22: kysely 0.29 and some fastify dependencies declare engines >= 22.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare script would try to build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# The embeddable front-end (web/) is bundled by esbuild, a dev dependency, into static/chat.js and static/seller-chats.js.
COPY web ./web
COPY static ./static
RUN npm run build

FROM node:22-bookworm-slim AS runtime
# LOG_PRETTY=false: `docker run -t` gives a TTY, which would otherwise ask for pino-pretty, a dev dependency.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    LOG_PRETTY=false \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/static ./static
# The app's files stay root-owned (read-only to the service); only the embedded database folder (DATA_DIR, used
# when DATABASE_URL is unset: mount a volume there) is writable.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4000
# Liveness only (never the database): a dead database must not get a healthy process restarted. No curl in slim images.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The service drains on SIGTERM within SHUTDOWN_TIMEOUT_MS; give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
CMD ["node", "dist/server/server.js"]
