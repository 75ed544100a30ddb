#!/usr/bin/env bash
# AWS deployment checks, offline: installs the pinned CDK CLI (.tools/cdk) and the template checkers (.tools/aws-checks:
# asl-validator, cdk-nag with the aws-cdk-lib it needs), synthesizes the CDK app (with the real Lambda publish), then checks
# what would be deployed: the state machine definitions with asl-validator, every template with cdk-nag's AwsSolutions
# rules, the Lambda package's size and contents, the demo run's handler with node's test runner; and compiles the Glue
# job's Python files and runs their unit tests. Needs .NET 10 SDK, Node 20, npm and python3. Idempotent. Exits non-zero when any check fails.
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

# npm ci of a .tools/ folder unless every package its package.json pins is installed at that version.
install_tools() {
  local dir="$1"
  if [ -d "$dir/node_modules" ] && node -e "
      const want = require('./$dir/package.json').devDependencies;
      for (const [name, version] of Object.entries(want)) {
        if (require('./$dir/node_modules/' + name + '/package.json').version !== version) process.exit(1);
      }" 2>/dev/null; then
    return 0
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

synth() {
  rm -rf cdk.out
  # npx of the local install only (--no: never a download); cdk.json's app is "dotnet run --project src/Tally.Aws.Cdk".
  npm exec --prefix .tools/cdk --no -- cdk synth --no-notices --quiet \
    && for stack in TallyData TallyEtl TallyOrchestration; do
         test -s "cdk.out/$stack.template.json" || { echo "missing cdk.out/$stack.template.json"; return 1; }
       done
}

# asl-validator on each state machine's definition, as the template holds it (references filled in: asl.js).
asl() {
  rm -rf cdk.out/asl
  local files
  files="$(node .tools/aws-checks/asl.js cdk.out cdk.out/asl)" || return 1
  local args=()
  for file in $files; do args+=(--json-path "$file"); done
  npm exec --prefix .tools/aws-checks --no -- asl-validator "${args[@]}"
}

# The package both .NET functions deploy (the cdk.out asset with the handlers' assembly): only what a run needs.
lambda_package() {
  local dir=""
  for candidate in cdk.out/asset.*/; do
    if [ -f "$candidate/Tally.Aws.Lambda.dll" ]; then dir="$candidate"; fi
  done
  [ -n "$dir" ] || { echo "no asset in cdk.out holds Tally.Aws.Lambda.dll"; return 1; }
  local bytes limit=$((25 * 1024 * 1024))
  bytes="$(du -sb "$dir" | cut -f1)"
  echo "the Lambda package: $(find "$dir" -type f | wc -l) files, $bytes bytes (limit $limit):"
  (cd "$dir" && ls -S | head -8 | sed 's/^/    /')
  local unwanted
  unwanted="$(cd "$dir" && ls | grep -iE 'duckdb|sqlite|AspNetCore|Microsoft\.Extensions|Spectre|Cronos|^Tally\.Pipeline|^tally\.dll' || true)"
  if [ -n "$unwanted" ]; then echo "files a run does not need: $unwanted"; return 1; fi
  if grep -qiE '"(DuckDB|Microsoft\.Data\.Sqlite|SQLitePCLRaw|Tally\.Pipeline)[^"]*/' "$dir/Tally.Aws.Lambda.deps.json"; then
    echo "Tally.Aws.Lambda.deps.json names a package a run does not need"; return 1
  fi
  [ "$bytes" -le "$limit" ] || { echo "the package is larger than $limit bytes"; return 1; }
}

check "install the CDK CLI (.tools/cdk, aws-cdk pinned in package-lock.json)" install_tools .tools/cdk
check "install asl-validator and cdk-nag (.tools/aws-checks, pinned in package-lock.json)" install_tools .tools/aws-checks
check "cdk synth (offline, publishes the Lambda package)" synth
check "asl-validator: the state machine definitions of cdk.out" asl
check "cdk-nag AwsSolutions rules on every template of cdk.out (findings fixed or acknowledged with a reason)" node .tools/aws-checks/nag.js cdk.out
check "the Lambda package holds only what a run needs (no DuckDB, SQLite, ASP.NET; at most 25 MiB)" lambda_package
check "node --test: the deploy-time demo run's handler (src/Tally.Aws.Cdk/DemoRun)" node --test tests/Tally.Aws.Cdk.Tests/DemoRun/
check "python3 -m py_compile glue/aggregate_hits.py glue/tally_contract.py" python3 -m py_compile glue/aggregate_hits.py glue/tally_contract.py
check "python3 -m unittest discover -s glue/tests" python3 -m unittest discover -s glue/tests

# Worded so that it is not mistaken for the whole CI run's "N passed, N failed" summary line.
echo "aws-checks: $passed of $((passed + failed)) checks passed"
[ "$failed" -eq 0 ]
