using System.Text.Json;
using Microsoft.Playwright;

namespace Tally.Dashboard.Tests;

/// <summary>
/// What the dashboard fixtures share: a data folder of their own, one <c>tally serve</c> over it, an HTTP client for its
/// API, a Chromium (Debian's, through Playwright) and the folder the page screenshots go to. Each fixture makes its data
/// in <see cref="IAsyncLifetime.InitializeAsync"/> and then calls <see cref="StartServeAsync"/> and <see cref="LaunchBrowserAsync"/>.
/// </summary>
public abstract class ServeFixture(string dataPrefix, string screenshotFolder) : IAsyncLifetime
{
    private TallyProcess? _serve;
    private IPlaywright? _playwright;

    public string Data { get; } = Path.Combine(Path.GetTempPath(), dataPrefix + Guid.NewGuid().ToString("N")[..8]);
    public Uri Url { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };
    public IBrowser Browser { get; private set; } = null!;
    public string Screenshots { get; } = ScreenshotFolder(screenshotFolder);

    public abstract Task InitializeAsync();

    /// <summary>Starts <c>tally serve</c> with <paramref name="args"/> and waits until its dashboard listens.</summary>
    private protected Task<TallyProcess> StartServeAsync(params string[] args) => StartServeAsync([], args);

    /// <summary>Starts <c>tally serve</c> with <paramref name="args"/> and these environment variables, and waits until its dashboard listens.</summary>
    private protected async Task<TallyProcess> StartServeAsync(IReadOnlyList<(string Name, string Value)> environment, params string[] args)
    {
        _serve = TallyProcess.Start(environment, args);
        Url = await _serve.DashboardUrlAsync();
        Http.BaseAddress = Url;
        return _serve;
    }

    protected async Task LaunchBrowserAsync()
    {
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

    /// <summary>A new page (its own browser context: no cookies or cache shared with other tests) that collects script errors.</summary>
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

    /// <summary><c>TestResults/&lt;name&gt;</c> at the top of the repository (ignored by git), emptied first.</summary>
    private static string ScreenshotFolder(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tally.sln"))) dir = dir.Parent;
        var folder = Path.Combine(dir?.FullName ?? AppContext.BaseDirectory, "TestResults", name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
