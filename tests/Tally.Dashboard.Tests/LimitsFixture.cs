using System.Globalization;

namespace Tally.Dashboard.Tests;

/// <summary>The query limits' and the load's tests, one after another (each measures time, none should slow another).</summary>
[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitsFixture>
{
    public const string Name = "limits";
}

/// <summary>
/// A <c>tally serve</c> with small query limits (<see cref="Timeout"/>, <see cref="MemoryLimit"/>, <see cref="MaxRows"/>,
/// <see cref="MaxConcurrent"/> and <see cref="MaxQueued"/>, from <c>TALLY_Query__…</c>) over one generated, aggregated hour,
/// whose schedule does not tick while the tests run; and a Chromium for its SQL page.
/// </summary>
public sealed class LimitsFixture() : ServeFixture("tally-limits-", "dashboard-screenshots-limits")
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    public const string MemoryLimit = "64MiB";
    public const int MaxRows = 100;
    public const int MaxConcurrent = 2;
    public const int MaxQueued = 3;
    public static readonly HourWindow Hour = HourWindow.Parse("2026-11-24T13");

    internal TallyProcess Serve { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Ok(await TallyProcess.RunAsync("generate", "--data", Data, "--hour", Hour.ToString(), "--hits-per-hour", "2000"));
        Ok(await TallyProcess.RunAsync("run", "--data", Data, "--hour", Hour.ToString()));
        Serve = await StartServeAsync(
            [
                ("TALLY_Query__Timeout", Timeout.ToString("c", CultureInfo.InvariantCulture)), ("TALLY_Query__MemoryLimit", MemoryLimit),
                ("TALLY_Query__MaxRows", $"{MaxRows}"), ("TALLY_Query__MaxConcurrent", $"{MaxConcurrent}"), ("TALLY_Query__MaxQueued", $"{MaxQueued}"),
            ],
            // Once a year: no run competes with the queries for the cores here (the load test has its own serve with runs).
            "serve", "--data", Data, "--port", "0", "--cron", "0 0 1 1 *");
        await LaunchBrowserAsync();
    }

    /// <summary>
    /// The threads of the serve process named <paramref name="name"/>, each with its nice value (field 19 of
    /// <c>/proc/PID/task/TID/stat</c>, after the name in parentheses: field 3 is the first after it).
    /// </summary>
    public IReadOnlyList<int> ThreadNiceValues(string name)
    {
        var nice = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{Serve.Id}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() != name) continue;
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                nice.Add(int.Parse(fields[19 - 3], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return nice;
    }

    private static void Ok(ProcessResult result) => Assert.True(result.ExitCode == 0, result.ToString());
}
