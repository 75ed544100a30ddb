using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Tally.Configuration;
using Tally.Engine;
using Tally.Metastore;
using Tally.Storage;

namespace Tally.Dashboard.Tests;

[CollectionDefinition(Name)]
public sealed class DeclaredDashboardCollection : ICollectionFixture<DeclaredDashboardFixture>
{
    public const string Name = "declared dashboard";
}

/// <summary>
/// <c>tally serve</c> over a data folder whose settings declare another source and other tables (<see cref="DeclaredSource"/>):
/// <see cref="BusyHour"/> and <see cref="LastHour"/> have raw records and tables, <see cref="EmptyHour"/> was processed
/// with no records. The tables stand in for the engine's (made by DuckDB from the raw files) and are registered in the
/// catalog as a run would. The schedule's next tick is years away, so nothing runs. Also a Chromium.
/// </summary>
public sealed class DeclaredDashboardFixture : IAsyncLifetime
{
    public const int BusyRecords = 500;
    public const int LastRecords = 400;

    public string Data { get; } = Path.Combine(Path.GetTempPath(), "tally-dash-declared-" + Guid.NewGuid().ToString("N")[..8]);
    public HourWindow BusyHour { get; private set; }
    public HourWindow EmptyHour { get; private set; }
    public HourWindow LastHour { get; private set; }
    public Uri Url { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public IBrowser Browser { get; private set; } = null!;
    public string Screenshots { get; } = ScreenshotFolder();

    private TallyProcess? _serve;
    private IPlaywright? _playwright;

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var toNextHour = HourWindow.Containing(now).End - now;
        if (toNextHour < TimeSpan.FromSeconds(60)) await Task.Delay(toNextHour + TimeSpan.FromSeconds(2));
        var current = HourWindow.Containing(DateTimeOffset.UtcNow);
        (BusyHour, EmptyHour, LastHour) = (current.AddHours(-3), current.AddHours(-2), current.AddHours(-1));

        var state = Path.Combine(Data, ".tally");
        Directory.CreateDirectory(state);
        var settings = JsonNode.Parse(DeclaredSource.Settings)!;
        settings["Schedule"] = new JsonObject { ["Cron"] = "0 0 29 2 *" };
        File.WriteAllText(Path.Combine(state, TallySettings.FileName), settings.ToJsonString());
        DeclaredSource.WriteRaw(Data, BusyHour, BusyRecords, seed: 21);
        DeclaredSource.WriteRaw(Data, LastHour, LastRecords, seed: 22);
        var catalog = await Catalog.OpenAsync(state, new LocalObjectStore(Data), TallySettings.Load(state).ToOptions());
        foreach (var hour in new[] { BusyHour, EmptyHour, LastHour })
        {
            var report = new RunReport { TargetHour = hour.ToString(), Status = RunStatus.Succeeded, Tables = DeclaredSource.WriteTables(Data, hour), InputFingerprint = "sha256:test" };
            await catalog.RecordRunAsync(report, Catalog.NewRunId(TimeProvider.System));
        }

        _serve = TallyProcess.Start("serve", "--data", Data, "--port", "0");
        Url = await _serve.DashboardUrlAsync();
        Http.BaseAddress = Url;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        Http.Dispose();
        if (_serve is not null)
        {
            _serve.Terminate();
            var ended = await _serve.EndAsync();
            Assert.True(ended.ExitCode == 0, ended.ToString());
        }
        if (Directory.Exists(Data)) Directory.Delete(Data, recursive: true);
    }

    /// <summary>A new page in its own browser context, collecting script errors.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Errors)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Url.ToString(), ViewportSize = new ViewportSize { Width = 1300, Height = 900 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        return (context, page, errors);
    }

    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    /// <summary>GETs JSON, asserting a 2xx answer.</summary>
    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary><c>TestResults/dashboard-screenshots-declared</c> at the top of the repository (ignored by git), emptied first.</summary>
    private static string ScreenshotFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tally.sln"))) dir = dir.Parent;
        var folder = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", "dashboard-screenshots-declared");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
