#!/usr/bin/env bash
# AWS deployment checks: installs the pinned CDK CLI locally (.tools/cdk), synthesizes the CDK app offline
# (with the real Lambda publish), compiles the Glue job's Python files and runs their unit tests.
# Needs .NET 10 SDK, Node 20, npm and python3. Idempotent. Exits non-zero when any check fails.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_CLI_TELEMETRY=true
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

passed=0
failed=0
check() {
  local name="$1"; shift
  local log
  log="$(mktemp)"
  local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "aws-check PASS: $name ($((SECONDS - start)) s)"
    passed=$((passed + 1))
  else
    echo "aws-check FAIL: $name ($((SECONDS - start)) s); its output:"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
  fi
  rm -f "$log"
}

install_cdk() {
  if [ -x .tools/cdk/node_modules/.bin/cdk ] \
    && [ "$(node -p "require('./.tools/cdk/node_modules/aws-cdk/package.json').version")" = \
         "$(node -p "require('./.tools/cdk/package.json').devDependencies['aws-cdk']")" ]; then
    return 0
  fi
  (cd .tools/cdk && npm ci --no-audit --no-fund --loglevel=error)
}

synth() {
  rm -rf cdk.out
  # npx of the local install only (--no: never a download); cdk.json's app is "dotnet run --project src/Tally.Aws.Cdk".
  npm exec --prefix .tools/cdk --no -- cdk synth --no-notices --quiet \
    && for stack in TallyData TallyEtl TallyOrchestration; do
         test -s "cdk.out/$stack.template.json" || { echo "missing cdk.out/$stack.template.json"; return 1; }
       done
}

check "install the CDK CLI (.tools/cdk, aws-cdk pinned in package-lock.json)" install_cdk
check "cdk synth (offline, publishes the Lambda)" synth
check "python3 -m py_compile glue/aggregate_hits.py glue/tally_contract.py" python3 -m py_compile glue/aggregate_hits.py glue/tally_contract.py
check "python3 -m unittest discover -s glue/tests" python3 -m unittest discover -s glue/tests

# Worded so that it is not mistaken for the whole CI run's "N passed, N failed" summary line.
echo "aws-checks: $passed of $((passed + failed)) checks passed"
[ "$failed" -eq 0 ]
