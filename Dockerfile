# One image, one target per service of docker-compose.yml. The workspace is installed once; the gateway and the
# sink run compiled (gateway/build.mjs, sink/build.mjs: tsx's loader cost the gateway ~40 MB of resident memory and
# the sink ~23 MB), the example site runs its TypeScript entry point with tsx, as `pnpm start` does.
FROM node:20-bookworm-slim AS workspace
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install -g pnpm@10.34.8
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches/ patches/
COPY sdk/package.json sdk/
COPY gateway/package.json gateway/
COPY sink/package.json sink/
COPY store/package.json store/
COPY queries/package.json queries/
COPY cli/package.json cli/
COPY examples/vanilla/package.json examples/vanilla/
COPY examples/react/package.json examples/react/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm --filter @tidemark/sdk build && pnpm --filter @tidemark/example-react build

FROM workspace AS gateway
WORKDIR /app/gateway
RUN node build.mjs
# One gateway worker per core (docs/configuration.md, TIDEMARK_GATEWAY_WORKERS), each with its own producer.
ENV TIDEMARK_MODE=distributed TIDEMARK_LISTEN_HOST=0.0.0.0 TIDEMARK_PORT=8787 TIDEMARK_GATEWAY_WORKERS=auto
EXPOSE 8787
# --heap-growing-percent=100: after each full GC, V8 lets the old generation grow to twice what survived instead
# of up to four times. The gateway keeps ~20 MB alive, but every request's objects that wait for Kafka's acks
# outlive a scavenge and are promoted, so by default its heap swung to ~110 MB of mostly garbage; with the flag,
# ~70 MB, for the same CPU per event (~55 µs, measured with process.cpuUsage() under bench/gateway.ts). Same
# flag in gateway/package.json `start`.
CMD ["node", "--heap-growing-percent=100", "dist/server.js"]

FROM workspace AS sink
WORKDIR /app/sink
RUN node build.mjs
ENV TIDEMARK_SINK_PORT=8788
EXPOSE 8788
CMD ["node", "dist/server.js"]

FROM workspace AS examples
WORKDIR /app/examples/vanilla
ENV TIDEMARK_LISTEN_HOST=0.0.0.0 PORT=8080
EXPOSE 8080
CMD ["node", "--import", "tsx", "serve.ts"]
