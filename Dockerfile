# Keystep container image: the keystep binary on Debian 12 slim.
# Build:  docker build -t keystep .
# The runtime packages are those of the libraries keystep links (objdump -p: NEEDED); libc6 and
# libgcc-s1 are in the base image. tests/integration/dockerfile_test.cc keeps the list exact.

FROM debian:bookworm AS build
WORKDIR /src
COPY hack/install-deps.sh hack/install-deps.sh
RUN ./hack/install-deps.sh
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target keystep \
 && strip /build/keystep

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 libstdc++6 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcpprest2.10 libsqlite3-0 libpq5 \
      libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin keystep
COPY --from=build /build/keystep /usr/local/bin/keystep
USER 10001:10001
EXPOSE 9000 9080
ENTRYPOINT ["/usr/local/bin/keystep"]
CMD ["serve", "--config", "/etc/keystep/keystep.yaml"]
