#!/usr/bin/env bash
# gen-deploy.sh renders the Helm chart into deploy/keystep.yaml, the same
# install as plain manifests (kubectl apply -f deploy/keystep.yaml), with the
# values of deploy/values.yaml, release keystep, namespace keystep, CRDs
# included. A test fails when the file is not current: rerun this script
# after changing the chart.
set -euo pipefail
cd "$(dirname "$0")/.."
out=deploy/keystep.yaml
./hack/chart-render.sh charts/keystep --release keystep --namespace keystep \
  -f deploy/values.yaml --include-crds > "$out.tmp"
mv "$out.tmp" "$out"
echo "gen-deploy: wrote $out ($(grep -c '^kind:' "$out") objects)"
