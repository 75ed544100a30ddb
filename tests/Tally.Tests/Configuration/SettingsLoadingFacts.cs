using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Tally.Configuration;
using Tally.State;
using Tally.Storage;


namespace Tally.Tests.Configuration;

/// <summary>The settings are bound per feature and checked once, at load, with every problem named; S3 has one way in.</summary>
public sealed partial class SettingsLoadingFacts
{
    [Fact]
    public void EveryBrokenRule_OfEverySection_IsNamedInOneError()
    {
        var e = Assert.Throws<TallyException>(() => SettingsFromValues.Load(
            ("Retry:MaxAttempts", "0"),
            ("Lease:Heartbeat", "00:01:00"),
            ("Schedule:MaxConcurrentRuns", "0"),
            ("State:BusyTimeout", "00:00:00"),
            ("S3:Endpoint", "ftp://example.com"),
            ("Dashboard:Port", "70000"),
            ("Query:MaxRows", "0")));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.Equal(string.Join(" ",
                "Retry:MaxAttempts must be 1 or more.",
                "Lease:Heartbeat must be shorter than Lease:Ttl, and both positive.",
                "S3:Endpoint 'ftp://example.com' is not an http:// or https:// URL.",
                "State:BusyTimeout must be at least a millisecond and at most a day.",
                "Schedule:MaxConcurrentRuns must be 1 or more.",
                "Dashboard:Port must be 0 to 65535, not 70000.",
                "Query:MaxRows must be 1 or more."),
            e.Message);
    }

    [Fact]
    public void AValueOfTheWrongType_IsRefused_NamingItsKey()
    {
        var e = Assert.Throws<TallyException>(() => SettingsFromValues.Load(("Lease:Ttl", "half a minute")));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.True(e.Message.Contains("Lease:Ttl", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void ACommandsOverrides_WinOverTheFile_AndAreCheckedWithIt()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tally-settings-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, TallySettings.FileName), """{ "Schedule": { "Cron": "*/5 * * * *" }, "RejectedThreshold": 0.2 }""");

            var settings = TallySettings.Load(folder, null, [KeyValuePair.Create("Schedule:Cron", (string?)"0 0 * * *")]);
            var e = Assert.Throws<TallyException>(() => TallySettings.Load(folder, null, [KeyValuePair.Create("RejectedThreshold", (string?)"2")]));

            Assert.Equal(("0 0 * * *", 0.2), (settings.Schedule.Cron, settings.Engine.RejectedThreshold));
            Assert.Equal("The rejected threshold must be between 0 and 1 (a share, 0.01 = 1 %), not 2.", e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("TALLY_S3_ENDPOINT", "TALLY_S3__Endpoint")]
    [InlineData("TALLY_S3_PATH_STYLE", "TALLY_S3__PathStyle")]
    public void AVariableOfTheOldS3Spelling_IsAnError_NamingTheNewOne(string old, string renamed)
    {
        var e = Assert.Throws<TallyException>(() => RenamedVariables.Check(name => name == old ? "http://127.0.0.1:9000" : null));

        Assert.Equal(TallyErrorKind.InvalidConfiguration, e.Kind);
        Assert.StartsWith($"{old} is set, but Tally no longer reads it", e.Message, StringComparison.Ordinal);
        Assert.Contains($"set {renamed} instead", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheS3Section_WinsOverTheAwsEnvironment_AndCarriesTheRetryAndTimeouts()
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1111",
            ["AWS_REGION"] = "eu-west-1",
            ["AWS_PROFILE"] = "from-environment",
        };
        var settings = SettingsFromValues.Load(("S3:Endpoint", "http://127.0.0.1:9000"), ("S3:PathStyle", "false"),
            ("S3:MaxAttempts", "2"), ("S3:RequestTimeout", "00:00:05"), ("S3:ReadIdleTimeout", "00:00:03"));

        var s3 = settings.S3.Resolve(environment.GetValueOrDefault);
        var fromEnvironment = SettingsFromValues.Load().S3.Resolve(environment.GetValueOrDefault);

        Assert.Equal((new Uri("http://127.0.0.1:9000"), (bool?)false, "eu-west-1", "from-environment"), (s3.Endpoint, s3.ForcePathStyle, s3.Region, s3.Profile));
        Assert.Equal((2, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(3)), (s3.MaxAttempts, s3.RequestTimeout, s3.ReadIdleTimeout));
        Assert.Equal((new Uri("http://127.0.0.1:1111"), (bool?)null, 6), (fromEnvironment.Endpoint, fromEnvironment.ForcePathStyle, fromEnvironment.MaxAttempts));
    }

    [Fact]
    public async Task TheBusyTimeout_IsHowLongAMetastoreWriteWaitsForAnotherWriter()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tally-busy-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var settings = SettingsFromValues.Load(("State:BusyTimeout", "00:00:00.200"));
            var db = await StateDatabase.OpenAsync(folder, settings.State, CancellationToken.None);
            await using var other = new SqliteConnection($"Data Source={db.FilePath};Pooling=False");
            await other.OpenAsync();
            await using (var command = other.CreateCommand())
            {
                command.CommandText = "BEGIN IMMEDIATE";
                await command.ExecuteNonQueryAsync(); // another process's write lock, held until the end of the test
            }

            var timeout = await db.ReadAsync(async c =>
                Convert.ToInt32(await StateDatabase.Command(c, null, "PRAGMA busy_timeout").ExecuteScalarAsync(), CultureInfo.InvariantCulture), CancellationToken.None);
            var e = await Assert.ThrowsAsync<TallyException>(() => db.WriteAsync((_, _) => Task.FromResult(0), CancellationToken.None));

            Assert.Equal(200, timeout);
            Assert.Equal(TallyErrorKind.Transient, e.Kind);
            Assert.Contains("locked", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheQueryCacheLockTimeout_ReachesTheQueryLimits() =>
        Assert.Equal(TimeSpan.FromSeconds(7), SettingsFromValues.Load(("Query:CacheLockTimeout", "00:00:07")).Query.Limits().CacheLockTimeout);

    /// <summary>
    /// The README's settings example lists every key with its default (the few unset by default are shown with example
    /// values, and the declaration has a section of its own): read as a settings file it loads, and each value is the
    /// default the code has.
    /// </summary>
    [Fact]
    public void TheReadmeExample_NamesEveryKey_WithItsDefault()
    {
        string[] examples = ["Data", "S3:Endpoint", "S3:PathStyle", "S3:Region", "S3:Profile", "Events:Webhook:Url", "Events:Webhook:Secret", "Events:File:Path"];
        string[] declaration = ["Source", "Aggregations", "Catalog"];
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var section = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..];
        var json = JsonBlock().Match(section).Groups[1].Value;
        var folder = Path.Combine(Path.GetTempPath(), "tally-readme-settings-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, TallySettings.FileName), json);
            TallySettings.Load(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        var documented = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Flatten(JsonDocument.Parse(json).RootElement, "", documented);
        var defaults = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var loaded = SettingsFromValues.Load();
        foreach (var property in typeof(TallySettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var value = property.GetValue(loaded);
            if (property.Name == nameof(TallySettings.Engine)) Flatten(value!, "", defaults); // the top-level keys
            else Flatten(value, property.Name, defaults);
        }
        foreach (var key in defaults.Keys.Where(k => declaration.Any(d => k == d || k.StartsWith(d + ":", StringComparison.Ordinal))).ToList()) defaults.Remove(key);

        Assert.Equal(defaults.Keys.Order(StringComparer.OrdinalIgnoreCase), documented.Keys.Order(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in defaults.Where(d => !examples.Contains(d.Key, StringComparer.OrdinalIgnoreCase)))
        {
            Assert.True(value == documented[key], $"README says {key} = {documented[key] ?? "null"}, the code's default is {value ?? "null"}");
        }
    }

    private static void Flatten(object? value, string key, Dictionary<string, string?> into)
    {
        switch (value)
        {
            case null or string or bool or int or long or double or TimeSpan:
                into[key] = Text(value);
                break;
            case System.Collections.IEnumerable:
                into[key] = "(list)";
                break;
            default:
                foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                {
                    Flatten(property.GetValue(value), key.Length == 0 ? property.Name : $"{key}:{property.Name}", into);
                }
                break;
        }
    }

    private static void Flatten(JsonElement element, string key, Dictionary<string, string?> into)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject()) Flatten(property.Value, key.Length == 0 ? property.Name : $"{key}:{property.Name}", into);
            return;
        }
        into[key] = element.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Array => "(list)",
            JsonValueKind.String when Duration().IsMatch(element.GetString()!) && TimeSpan.TryParse(element.GetString(), CultureInfo.InvariantCulture, out var span) => Text(span),
            JsonValueKind.Number => Text(element.GetDouble()),
            _ => element.GetString(),
        };
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        int or long or double => Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tally.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("The repository root (Tally.sln) was not found above the test's folder.");
    }

    [GeneratedRegex(@"^-?(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$")]
    private static partial Regex Duration();

    [GeneratedRegex(@"```json\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
