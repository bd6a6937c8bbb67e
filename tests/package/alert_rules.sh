#!/usr/bin/env bash
# docs/prometheus/certauth-alerts.yml: valid rules for Prometheus's own
# checker, and each alert firing (with its labels and text) on the series it
# is about and on no other (prometheus/certauth-alerts-test.yml).
set -euo pipefail

SRC="${CERTAUTH_SOURCE_DIR:?set CERTAUTH_SOURCE_DIR to the source tree}"
command -v promtool >/dev/null || { echo "FAIL: promtool missing (package prometheus)" >&2; exit 1; }

promtool check rules "$SRC/docs/prometheus/certauth-alerts.yml"
promtool test rules "$SRC/tests/package/prometheus/certauth-alerts-test.yml"
