#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser tests (Microsoft.Playwright drives it through
# ExecutablePath; Playwright's own browser download is never used). Idempotent: does nothing when
# /usr/bin/chromium is already there. Needs root (apt-get), as on the project's machines and CI.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: /usr/bin/chromium is missing and this is not root; run 'apt-get install -y chromium' as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -q >/dev/null || ! apt-get install -y -q --no-install-recommends chromium >/dev/null; then
  echo "install-chromium: 'apt-get install chromium' failed; the dashboard's browser tests need /usr/bin/chromium" >&2
  exit 1
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"
