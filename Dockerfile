# herald: a two-stage build. The first stage compiles with the same command the README
# gives (cargo build --release --locked), caching dependencies in their own layer; the
# second is a small Debian image with CA certificates and OpenSSL, running as a non-root
# user.

FROM rust:1.95-bookworm AS build
# TLS to Discord and to feeds goes through the system's OpenSSL (native-tls); SFTP sources
# through libssh2, built here against OpenSSL and zlib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the manifests, the lock file or the
# benchmarks (targets the manifest names) change. The workspace's other member, the fake
# Discord the tests use, is not built; cargo only needs its manifest.
COPY Cargo.toml Cargo.lock ./
COPY crates/fake-discord/Cargo.toml ./crates/fake-discord/
COPY benches ./benches
RUN mkdir -p src crates/fake-discord/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs crates/fake-discord/src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src crates/fake-discord/src
COPY . .
# Make sure cargo rebuilds herald itself, not the placeholder.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 herald \
    && useradd --system --uid 10001 --gid herald --home-dir /data --shell /usr/sbin/nologin herald \
    && mkdir -p /data /etc/herald \
    && chown herald:herald /data
COPY --from=build /src/target/release/herald /usr/local/bin/herald
# The example configuration (which runs the bundled demo election) and the party registry;
# mount your own config over /etc/herald/config/herald.toml.
COPY config /etc/herald/config
# The store lives on a volume; configuration comes from a mounted file and the environment
# (DISCORD_TOKEN, HERALD_*). /healthz listens on all interfaces inside the container so the
# platform can probe it; publish the port only if you want it outside.
ENV HERALD_STORE=/data/herald.db \
    HERALD_OBSERVE_LISTEN=0.0.0.0:9184
VOLUME ["/data"]
WORKDIR /etc/herald
USER 10001:10001
EXPOSE 9184
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["herald", "health", "--url", "http://127.0.0.1:9184/healthz"]
ENTRYPOINT ["herald"]
CMD ["run", "--config", "config/herald.toml"]
