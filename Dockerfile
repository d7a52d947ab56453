# Keystep container image: the keystep binary on Debian 12 slim.
# Build:  docker build -t keystep:0.1.0 .      (or hack/image.sh, which also works offline with podman)
# The runtime packages are those of the libraries keystep links (objdump -p: NEEDED); libc6 and
# libgcc-s1 are in the base image. tests/integration/dockerfile_test.cc keeps the list exact.

# The base images; hack/image.sh points them at local Debian images built with debootstrap when no
# registry is reachable.
ARG BUILD_BASE=debian:bookworm
ARG RUNTIME_BASE=debian:bookworm-slim

FROM ${BUILD_BASE} AS build
WORKDIR /src
COPY hack/install-deps.sh hack/install-deps.sh
RUN ./hack/install-deps.sh --build
# Only what building keystep reads, so changes elsewhere (tests, chart, docs) keep this layer.
COPY CMakeLists.txt ./
COPY tests/test_main.cc tests/test_main.cc
COPY issuer issuer
COPY operator operator
COPY cli cli
# The build type the tests run (-O2; strip drops the debug info). GCC 12 at -O3 (Release) reports a
# false -Wrestrict in libstdc++'s string concatenation, which -Werror turns into a failed build.
# The build tree is removed in the same step, so the layer holds only the stripped binary.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target keystep \
 && strip -o /usr/local/bin/keystep /build/keystep \
 && rm -rf /build

FROM ${RUNTIME_BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 libstdc++6 libyaml-cpp0.7 libspdlog1.10 libfmt9 libcpprest2.10 libsqlite3-0 libpq5 \
      libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin keystep
COPY --from=build /usr/local/bin/keystep /usr/local/bin/keystep
USER 10001:10001
EXPOSE 9000 9080
ENTRYPOINT ["/usr/local/bin/keystep"]
CMD ["serve", "--config", "/etc/keystep/keystep.yaml"]
