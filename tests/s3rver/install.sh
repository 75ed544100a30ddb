#!/usr/bin/env bash
# Installs the S3-compatible test server (@20minutes/s3rver, pinned in package-lock.json) into tests/s3rver/node_modules.
# Idempotent: does nothing when the pinned version is already there. Needs Node 20 and npm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
installed="node_modules/@20minutes/s3rver/package.json"
if [ -f "$installed" ] && [ "$(node -p "require('./$installed').version")" = "$(node -p "require('./package.json').dependencies['@20minutes/s3rver']")" ]; then
  echo "s3rver $(node -p "require('./$installed').version") is installed"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "s3rver $(node -p "require('./$installed').version") installed"
