# The one image every Reprise component runs: the container's command picks the component,
#   node dist/workers/<name>.js   (webhook = operator, forwarder, orchestrator, sidecar,
#                                   generator, responder)
# and `node bin/reprise.js` is the CLI. The Helm chart (charts/reprise) sets the command of each
# container and takes the image as a value (image.repository / image.tag).
#
#   docker build -t reprise:0.1.0 .
#   npm run image      # on a machine without Docker or a registry: buildah, a locally built
#                      # Node base (scripts/image/build.sh), localhost/reprise:<version>
#   docker run --rm reprise:0.1.0                                    # CLI help
#   docker run --rm reprise:0.1.0 node dist/workers/forwarder.js --help

# Node 24 LTS. Any image with node, npm and a POSIX shell at /bin/sh works (scripts/image/build.sh
# passes a locally assembled one).
ARG NODE_IMAGE=node:24-slim

# --- deps: the runtime packages only, from the lockfile alone, so a change to the sources
# reuses this layer (a second `npm ci` after the compile took minutes on every build).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# Temporal's core bridge ships its native library for five platforms: keep this one's (the
# other four weigh about 130 MB).
RUN cd node_modules/@temporalio/core-bridge/releases \
 && for d in *; do [ "$d" = "$(uname -m)-unknown-linux-gnu" ] || rm -rf "$d"; done

# --- build: compile the TypeScript and bundle the workflows.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (npm run build) needs the sources, copied next.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY scripts/bundle-workflows.mjs ./scripts/
COPY src ./src
COPY cli ./cli
COPY sidecar ./sidecar
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
# tsconfig also lists demo/, test/, bench/ and tools/: .dockerignore leaves them out of the context
# (not part of the image), and tsc skips include paths that do not exist.
RUN npx tsc -p tsconfig.json && node scripts/bundle-workflows.mjs

# --- runtime: node, the compiled code and the runtime packages; no compiler, no npm cache.
FROM ${NODE_IMAGE}
# No REPRISE_HOME here: each component's store comes from its command line or the chart (an
# image-wide default reached the operator, which then checked an empty folder for snapshots).
ENV NODE_ENV=production \
    REPRISE_LOG_JSON=1
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/cli ./dist/cli
COPY --from=build /app/dist/sidecar ./dist/sidecar
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dist/activities ./dist/activities
COPY --from=build /app/dist/workers ./dist/workers
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# A worker uses the bundle only when it is newer than the modules it contains (else it would
# rebuild it, which a read-only root filesystem forbids): make sure it is the newest file.
# The store's usual mount point belongs to the runtime user (uid 1000, `node` in the base image).
RUN touch dist/workflow-bundle.js \
 && mkdir -p /var/lib/reprise \
 && chown 1000:1000 /var/lib/reprise
# Numeric, so Kubernetes can check runAsNonRoot.
USER 1000:1000
# Sidecar inbound/outbound/admin, forwarder, operator webhook/health, inspector.
EXPOSE 4143 4140 4144 8888 9443 8081 8080
CMD ["node", "bin/reprise.js", "--help"]
