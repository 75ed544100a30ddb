#!/usr/bin/env bash
# Installs Debian's python3-prometheus-client: the dashboard's tests parse /metrics with the Prometheus project's own
# parser (prometheus_client.parser), independent of the code that writes it. Idempotent; needs root (apt-get).
set -euo pipefail

if /usr/bin/python3 -c "import prometheus_client.parser" 2>/dev/null; then
  echo "prometheus_client: present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-prometheus-parser: python3-prometheus-client is missing and this is not root; run 'apt-get install -y python3-prometheus-client' as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends python3 python3-prometheus-client >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  if ! apt-get install -y -q --no-install-recommends python3 python3-prometheus-client >/dev/null; then
    echo "install-prometheus-parser: 'apt-get install python3-prometheus-client' failed; the dashboard's /metrics test needs it" >&2
    exit 1
  fi
fi
echo "prometheus_client: installed"
