using System.Diagnostics;

namespace Tally.Cli.Tests;

/// <summary>
/// How the tests start <c>tally</c>: the build next to the tests (<c>dotnet tally.dll</c>), or, when
/// <c>TALLY_TEST_EXECUTABLE</c> names one, that published binary (scripts/test.sh runs the process tests once more on the
/// Native AOT build that way).
/// </summary>
internal static class TallyExecutable
{
    /// <summary>The variable naming a published <c>tally</c> to test instead of the build.</summary>
    public const string Variable = "TALLY_TEST_EXECUTABLE";

    /// <summary>A start of <c>tally</c> with no arguments yet.</summary>
    public static ProcessStartInfo StartInfo()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } published)
        {
            Assert.True(File.Exists(published), $"{Variable} names {published}, which does not exist.");
            return new ProcessStartInfo(published);
        }
        var app = Path.Combine(AppContext.BaseDirectory, "tally.dll");
        Assert.True(File.Exists(app), $"{app} is missing: the test project must reference Tally.Cli.");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet");
        start.ArgumentList.Add(app);
        return start;
    }
}
