# Images of our two services for `docker compose up` (docker-compose.yml). Three stages on Debian
# bookworm: build the C code, build the SPA (only when frontend/package.json exists), and a slim
# runtime with only the shared libraries, run as an unprivileged user. Targets: processor, ingress.

# --- build: the C code --------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake ninja-build pkg-config ca-certificates \
        librdkafka-dev libpq-dev libmicrohttpd-dev libyajl-dev libcmocka-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    && cmake --build /build --target bk-ingress bk-processor

# --- frontend: the SPA, or the plain files in frontend/public when there is nothing to build -----
FROM debian:bookworm-slim AS frontend
WORKDIR /src
COPY . .
RUN set -eu; mkdir -p /static; \
    if [ -f frontend/package.json ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends nodejs npm ca-certificates; \
        cd frontend; \
        if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi; \
        npm run build --if-present; \
        cd ..; \
    fi; \
    if [ -d frontend/dist ]; then cp -r frontend/dist/. /static/; \
    elif [ -d frontend/public ]; then cp -r frontend/public/. /static/; fi

# --- runtime: shared libraries only ----------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        librdkafka1 libpq5 libmicrohttpd12 libyajl2 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin bk
COPY --from=build /build/bin/bk-ingress /build/bin/bk-processor /usr/local/bin/
COPY --from=frontend /static/ /usr/share/bk/static/
# Fails the image build, not the first start, when a shared library is missing.
RUN ! ldd /usr/local/bin/bk-ingress /usr/local/bin/bk-processor | grep 'not found'
ENV BK_STATIC_DIR=/usr/share/bk/static \
    BK_HTTP_PORT=8080
USER bk

FROM runtime AS processor
CMD ["bk-processor"]

# Last stage = the default target.
FROM runtime AS ingress
EXPOSE 8080
CMD ["bk-ingress"]
