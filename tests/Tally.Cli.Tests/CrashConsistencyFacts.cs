using System.Globalization;
using Xunit.Abstractions;

namespace Tally.Cli.Tests;

/// <summary>
/// The crash harness, short: a few tens of SIGKILLs of <c>tally run</c>, <c>backfill</c> and <c>serve</c> (bench/crash.sh runs
/// 200 through the same test: TALLY_CRASH_KILLS, TALLY_CRASH_HITS and TALLY_CRASH_SEED change the figures it runs with,
/// TALLY_CRASH_REPORT names a file for its figures as JSON).
/// </summary>
public sealed class CrashConsistencyFacts(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task KilledAtAnyPoint_TheTablesAreWholeEarlierOrNewOutputs_AndTheNextRunsRecover_LeavingNothingBehind()
    {
        var kills = Setting("TALLY_CRASH_KILLS", 20);
        using var harness = new CrashHarness(Setting("TALLY_CRASH_SEED", 16), Setting("TALLY_CRASH_HITS", 20_000), output.WriteLine);

        var figures = await harness.RunAsync(kills);

        output.WriteLine(figures.ToString());
        if (Environment.GetEnvironmentVariable("TALLY_CRASH_REPORT") is { Length: > 0 } report) await File.WriteAllTextAsync(report, figures.ToJson());
        Assert.True(figures.Kills >= kills, figures.ToString());
        Assert.True(figures.Findings.Count == 0, figures.ToString());
        Assert.Equal((0, 0, 0, 0), (figures.TornFiles, figures.Leftovers, figures.RecoveryFailures, figures.DamagedMetastores));
    }
}
