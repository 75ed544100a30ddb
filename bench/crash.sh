#!/usr/bin/env bash
# The crash harness at length: SIGKILLs `tally run`, `tally backfill` and `tally serve` 200 times (or $1) at seeded
# random points while the input of their hours changes between rounds, checks every table file, the quarantine, the
# metastore, the run history and the temporary files after each, and prints the figures (see bench/README.md).
# It is the test CI runs with 20 kills, tests/Tally.Cli.Tests/CrashConsistencyFacts.cs, given more kills:
#   TALLY_CRASH_HITS (default here 50000 records per hour) and TALLY_CRASH_SEED (16) change the data and the kill points;
#   TALLY_TEST_EXECUTABLE=<published tally> kills that binary (the Native AOT build) instead of the JIT build.
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-200}"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/Tally.Cli.Tests -c Release --nologo -v quiet > /dev/null
status=0
TALLY_CRASH_KILLS="$kills" TALLY_CRASH_HITS="${TALLY_CRASH_HITS:-50000}" TALLY_CRASH_SEED="${TALLY_CRASH_SEED:-16}" TALLY_CRASH_REPORT="$report" \
  dotnet test tests/Tally.Cli.Tests -c Release --no-build --nologo --filter "FullyQualifiedName~CrashConsistencyFacts" \
  --logger "console;verbosity=detailed" || status=$?
echo
echo "Figures:"
cat "$report"
exit "$status"
