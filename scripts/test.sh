#!/usr/bin/env bash
# Runs Tally's whole test suite on a fresh machine: restores and builds everything, runs every xunit project,
# then the process tests once more on the published (Native AOT) tally, then the AWS checks (.ci/aws-checks.sh: cdk synth, asl-validator, cdk-nag, the Lambda package, the demo run's handler,
# the Glue script's Python tests), and ends with one
# "N passed, N failed" line: xunit's tests plus one per check.
# Everything it needs is restored or installed by this script or the scripts it calls.
set -uo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0

echo "== build"
if ! dotnet build Tally.sln -c Release --nologo -v quiet 2>&1 | tee -a "$log" | grep -E "error|Warn|Elapsed"; then :; fi
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== install the S3-compatible test server (tests/s3rver)"
# The S3 tests start it on 127.0.0.1 themselves; on a fresh machine it must be installed first.
if ! bash tests/s3rver/install.sh 2>&1 | tee -a "$log"; then
  echo "installing tests/s3rver failed"
  status=1
fi

echo "== install Chromium and the Prometheus text parser for the dashboard's tests"
# The browser tests drive Debian's Chromium through Playwright; the /metrics test parses with python3-prometheus-client.
for install in scripts/install-chromium.sh scripts/install-prometheus-parser.sh; do
  if ! bash "$install" 2>&1 | tee -a "$log"; then
    echo "$install failed"
    status=1
  fi
done

echo "== xunit"
dotnet test Tally.sln -c Release --no-build --nologo 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== the engine's tests again, on the scanner's scalar path (TALLY_SIMD=0)"
# The scanner has a vector path and a scalar one that must give the same results: every in-process run and oracle test
# of tests/Tally.Tests once more with the scalar path forced (tests/Tally.Cli.Tests/ScanPathFacts compares their files).
TALLY_SIMD=0 dotnet test tests/Tally.Tests -c Release --no-build --nologo 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== the process tests again, on the published (Native AOT) tally"
# xunit above runs the process tests on the JIT build (dotnet tally.dll); `dotnet publish src/Tally.Cli` makes a native
# binary, and every command the process tests run is run on it too (TALLY_TEST_EXECUTABLE, see tests/Tally.Cli.Tests).
rid="linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')"
aot="$(mktemp -d)"
dotnet publish src/Tally.Cli -c Release -r "$rid" -p:PublishAot=true -o "$aot/bin" --nologo -v quiet > "$aot/publish.log" 2>&1
published=$?
grep -E "error|warn" "$aot/publish.log" || :
if [ "$published" -ne 0 ] || [ ! -x "$aot/bin/tally" ]; then
  echo "dotnet publish src/Tally.Cli (Native AOT) failed"
  status=1
else
  TALLY_TEST_EXECUTABLE="$aot/bin/tally" dotnet test tests/Tally.Cli.Tests -c Release --no-build --nologo 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi
rm -rf "$aot"

echo "== .ci/aws-checks.sh"
bash .ci/aws-checks.sh 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

sum() { grep -hoE "$1" "$log" | grep -oE "[0-9]+" | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum "Passed: +[0-9]+")
failed=$(sum "Failed: +[0-9]+")
# Each AWS check (one of them runs the Glue script's Python tests) counts as one test.
checks_passed=$(grep -c "^aws-check PASS" "$log")
checks_failed=$(grep -c "^aws-check FAIL" "$log")
passed=$(( ${passed:-0} + checks_passed ))
failed=$(( ${failed:-0} + checks_failed ))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo
echo "$passed passed, $failed failed"
exit "$status"
