using System.Buffers;
using System.Buffers.Text;
using System.IO.Compression;
using System.Text;
using Tally.Storage;

namespace Tally.Synthetic;

/// <summary>What to generate.</summary>
/// <param name="FirstHour">The first hour (UTC).</param>
/// <param name="Hours">How many consecutive hours.</param>
/// <param name="HitsPerHour">Records per hour, spread evenly over its minutes.</param>
/// <param name="Seed">Same seed, same bytes.</param>
/// <param name="FilesPerMinute">Files per minute folder.</param>
/// <param name="Gzip">Write <c>.json.gz</c> instead of <c>.json</c>.</param>
public sealed record GeneratorOptions(HourWindow FirstHour, int Hours = 1, long HitsPerHour = 100_000, int Seed = 42, int FilesPerMinute = 1, bool Gzip = false)
{
    /// <exception cref="TallyException">When a value is out of range.</exception>
    public void Validate()
    {
        if (Hours is < 1 or > 24 * 366) throw TallyException.InvalidArgument("--hours must be between 1 and 8784.");
        if (HitsPerHour is < 0 or > 1_000_000_000) throw TallyException.InvalidArgument("--hits-per-hour must be between 0 and 1,000,000,000.");
        if (FilesPerMinute is < 1 or > 100) throw TallyException.InvalidArgument("--files-per-minute must be between 1 and 100.");
    }
}

/// <summary>
/// Writes realistic synthetic raw hits under <c>raw_data/year=/month=/day=/hour=/minute=</c> as JSON Lines: countries with a
/// skewed (Zipf-like) distribution, about 2,000 domains, GroupID 1..500, thousands of real-looking user agents, timestamps
/// spread over each minute; or, given <see cref="SampleRecords"/>, records shaped like a sample of a declared source.
/// Deterministic: the same options give the same files, whatever the thread count.
/// </summary>
public sealed class RawDataGenerator
{
    private static readonly string[] Countries =
    [
        "US", "IN", "BR", "GB", "DE", "FR", "JP", "CA", "RU", "IT", "ES", "MX", "ID", "KR", "AU", "TR", "NL", "PL", "VN", "PH",
        "AR", "SE", "CO", "TH", "EG", "NG", "PK", "BD", "ZA", "UA", "CH", "BE", "AT", "MY", "CL", "PT", "CZ", "RO", "IL", "SA",
        "AE", "GR", "HU", "DK", "FI", "NO", "IE", "NZ", "SG", "HK", "TW", "KE", "MA", "PE", "VE", "DZ", "IR", "IQ", "KZ", "LK",
    ];

    private static readonly string[] Languages =
    [
        "en-US", "en-GB", "hi-IN", "pt-BR", "de-DE", "fr-FR", "ja-JP", "en-CA", "ru-RU", "it-IT", "es-ES", "es-MX", "id-ID",
        "ko-KR", "en-AU", "tr-TR", "nl-NL", "pl-PL", "vi-VN", "fil-PH", "zh-CN", "zh-TW", "ar-SA", "sv-SE", "uk-UA",
    ];

    private readonly IObjectStore _store;
    private readonly SampleRecords? _sample;
    private readonly byte[][] _countries;
    private readonly byte[][] _languages;
    private readonly byte[][] _domains;
    private readonly byte[][] _userAgents;
    private readonly double[] _countryCdf;
    private readonly double[] _domainCdf;
    private readonly double[] _agentCdf;
    private readonly double[] _groupCdf;

    /// <param name="store">Where the raw files go.</param>
    /// <param name="sample">Records to write instead of the seed's: ones shaped like a sample record of a declared source.</param>
    public RawDataGenerator(IObjectStore store, SampleRecords? sample = null)
    {
        _store = store;
        _sample = sample;
        var vocabulary = new Random(20261124); // the vocabulary is the same for every seed
        _countries = Countries.Select(Utf8).ToArray();
        _languages = Languages.Select(Utf8).ToArray();
        _domains = MakeDomains(vocabulary, 2000).Select(Utf8).ToArray();
        _userAgents = MakeUserAgents().Select(Utf8).ToArray();
        _countryCdf = ZipfCdf(_countries.Length, 1.1);
        _domainCdf = ZipfCdf(_domains.Length, 0.9);
        _agentCdf = ZipfCdf(_userAgents.Length, 1.0);
        _groupCdf = ZipfCdf(500, 0.6);
    }

    /// <summary>Checks that the records this generator writes, the seed's, are what <paramref name="schema"/> declares.</summary>
    /// <param name="command">The command that generates, named in the error (<c>tally generate</c>).</param>
    /// <param name="alternative">What else the command can do, ending the error (<c>or give --sample FILE</c>), or null.</param>
    /// <exception cref="TallyException">InvalidConfiguration, one sentence, when the schema is not the seed's.</exception>
    public static void EnsureGenerates(SourceSchema schema, string command, string? alternative = null)
    {
        if (schema.IsSeed) return;
        throw TallyException.InvalidConfiguration(
            $"{command} writes only the seed's fields ({string.Join(", ", SourceSchema.Seed.Fields.Select(f => f.Name))}), but the settings declare other Source:Fields ({string.Join(", ", schema.Fields.Select(f => f.Name))}); write your own raw files under {DataLayout.RawPrefix}/year=YYYY/month=MM/day=DD/hour=HH/minute=mm/ instead{(alternative is null ? "" : ", " + alternative)}.");
    }

    /// <summary>Writes every hour's files (each file atomically), in parallel across minutes.</summary>
    /// <param name="progress">Receives the number of records written so far.</param>
    /// <returns>The keys written.</returns>
    public async Task<IReadOnlyList<string>> GenerateAsync(GeneratorOptions options, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var jobs = new List<(HourWindow Hour, int Minute, int File, long Count)>();
        for (var h = 0; h < options.Hours; h++)
        {
            var hour = options.FirstHour.AddHours(h);
            var slots = 60 * options.FilesPerMinute;
            for (var slot = 0; slot < slots; slot++)
            {
                var count = options.HitsPerHour / slots + (slot < options.HitsPerHour % slots ? 1 : 0);
                jobs.Add((hour, slot / options.FilesPerMinute, slot % options.FilesPerMinute, count));
            }
        }
        long written = 0;
        var keys = new string[jobs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs.Count), new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, async (i, ct) =>
        {
            var (hour, minute, file, count) = jobs[i];
            var key = $"{DataLayout.RawMinutePrefix(hour, minute)}/part-{file:D4}.json{(options.Gzip ? ".gz" : "")}";
            var random = new Random(FileSeed(options.Seed, hour, minute, file));
            await _store.WriteAtomicAsync(key, async (stream, token) =>
            {
                Stream target = options.Gzip ? new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true) : stream;
                try
                {
                    await WriteRecordsAsync(target, random, hour, minute, count, token).ConfigureAwait(false);
                }
                finally
                {
                    if (options.Gzip) await target.DisposeAsync().ConfigureAwait(false);
                }
            }, ct).ConfigureAwait(false);
            keys[i] = key;
            progress?.Report(Interlocked.Add(ref written, count));
        }).ConfigureAwait(false);
        return keys;
    }

    private async Task WriteRecordsAsync(Stream stream, Random random, HourWindow hour, int minute, long count, CancellationToken cancellationToken)
    {
        const int BlockSize = 1 << 20;
        var block = new ArrayBufferWriter<byte>(BlockSize + 4096);
        var minuteStart = hour.Start.AddMinutes(minute);
        for (long i = 0; i < count; i++)
        {
            if (_sample is not null)
            {
                _sample.Write(block, random, minuteStart);
                if (block.WrittenCount >= BlockSize)
                {
                    await stream.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
                    block.ResetWrittenCount();
                }
                continue;
            }
            var span = block.GetSpan(4096);
            var n = 0;
            Append(span, ref n, "{\"GroupID\":"u8);
            Utf8Formatter.TryFormat(Pick(_groupCdf, random) + 1, span[n..], out var w);
            n += w;
            Append(span, ref n, ",\"CountryCode\":\""u8);
            Append(span, ref n, _countries[Pick(_countryCdf, random)]);
            Append(span, ref n, "\",\"UserAgent\":\""u8);
            Append(span, ref n, _userAgents[Pick(_agentCdf, random)]);
            Append(span, ref n, "\",\"Language\":\""u8);
            Append(span, ref n, _languages[random.Next(_languages.Length)]);
            Append(span, ref n, "\",\"Domain\":\""u8);
            Append(span, ref n, _domains[Pick(_domainCdf, random)]);
            Append(span, ref n, "\",\"Timestamp\":\""u8);
            var at = minuteStart.AddTicks(random.NextInt64(TimeSpan.TicksPerMinute / TimeSpan.TicksPerMillisecond) * TimeSpan.TicksPerMillisecond);
            at.UtcDateTime.TryFormat(span[n..], out w, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            n += w;
            Append(span, ref n, "\"}\n"u8);
            block.Advance(n);
            if (block.WrittenCount >= BlockSize)
            {
                await stream.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
                block.ResetWrittenCount();
            }
        }
        if (block.WrittenCount > 0) await stream.WriteAsync(block.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A seed per file from the options' seed and the file's place: stable across processes and runtimes
    /// (HashCode is randomized per process, so it cannot be used here).</summary>
    private static int FileSeed(int seed, HourWindow hour, int minute, int file)
    {
        unchecked
        {
            var h = (ulong)(uint)seed;
            foreach (var part in new[] { (ulong)hour.Start.UtcTicks, (ulong)minute, (ulong)file })
            {
                h = (h ^ part) * 0x9E3779B97F4A7C15UL;
                h ^= h >> 31;
            }
            return (int)(h & 0x7FFFFFFF);
        }
    }

    private static void Append(Span<byte> span, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[n..]);
        n += bytes.Length;
    }

    private static int Pick(double[] cdf, Random random)
    {
        var i = Array.BinarySearch(cdf, random.NextDouble());
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }

    /// <summary>The cumulative distribution of ranks 1..<paramref name="n"/> with weights 1/k^<paramref name="exponent"/>.</summary>
    internal static double[] ZipfCdf(int n, double exponent)
    {
        var weights = Enumerable.Range(1, n).Select(k => 1.0 / Math.Pow(k, exponent)).ToArray();
        var total = weights.Sum();
        var cdf = new double[n];
        double running = 0;
        for (var i = 0; i < n; i++)
        {
            running += weights[i] / total;
            cdf[i] = running;
        }
        return cdf;
    }

    private static List<string> MakeDomains(Random random, int count)
    {
        string[] syllables = ["shop", "news", "data", "cloud", "go", "my", "best", "tech", "home", "blog", "travel", "food", "game", "play", "book",
            "learn", "city", "sport", "health", "money", "auto", "photo", "music", "web", "net", "smart", "daily", "open", "fast", "green"];
        string[] tlds = ["com", "com", "com", "net", "org", "io", "de", "co.uk", "fr", "com.br", "in", "jp", "es", "it", "nl"];
        var domains = new HashSet<string>(StringComparer.Ordinal);
        while (domains.Count < count)
        {
            var name = syllables[random.Next(syllables.Length)] + syllables[random.Next(syllables.Length)]
                + (random.Next(4) == 0 ? random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            domains.Add($"{(random.Next(3) == 0 ? "www." : "")}{name}.{tlds[random.Next(tlds.Length)]}");
        }
        return [.. domains];
    }

    private static List<string> MakeUserAgents()
    {
        string[] desktops =
        [
            "Windows NT 10.0; Win64; x64", "Windows NT 6.1; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", "Macintosh; Intel Mac OS X 14_4_1",
            "X11; Linux x86_64", "X11; Ubuntu; Linux x86_64", "X11; CrOS x86_64 15633.69.0",
        ];
        string[] phones = ["Pixel 8", "Pixel 7a", "SM-S918B", "SM-A546E", "SM-G991B", "Redmi Note 12", "CPH2581", "moto g84 5G", "2201116SG", "V2231"];
        var agents = new List<string>();
        foreach (var os in desktops)
        {
            for (var v = 100; v <= 131; v++)
            {
                agents.Add($"Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36");
                agents.Add($"Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0");
                agents.Add($"Mozilla/5.0 ({os.Replace("; Win64; x64", "; Win64; x64; rv:" + v + ".0", StringComparison.Ordinal)}) Gecko/20100101 Firefox/{v}.0");
                agents.Add($"Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36 OPR/{v - 14}.0.0.0");
            }
        }
        foreach (var phone in phones)
        {
            for (var android = 10; android <= 14; android++)
            {
                for (var v = 110; v <= 131; v += 3)
                {
                    agents.Add($"Mozilla/5.0 (Linux; Android {android}; {phone}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36");
                    agents.Add($"Mozilla/5.0 (Linux; Android {android}; {phone}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/{v % 30}.0 Chrome/{v}.0.0.0 Mobile Safari/537.36");
                }
            }
        }
        for (var ios = 15; ios <= 18; ios++)
        {
            for (var minor = 0; minor <= 6; minor++)
            {
                agents.Add($"Mozilla/5.0 (iPhone; CPU iPhone OS {ios}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{ios}.{minor} Mobile/15E148 Safari/604.1");
                agents.Add($"Mozilla/5.0 (iPad; CPU OS {ios}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{ios}.{minor} Mobile/15E148 Safari/604.1");
                agents.Add($"Mozilla/5.0 (iPhone; CPU iPhone OS {ios}_{minor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/{120 + minor}.0.0.0 Mobile/15E148 Safari/604.1");
            }
        }
        agents.AddRange(["Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.5.0", "python-requests/2.31.0", "Wget/1.21.4"]);
        // Shuffle deterministically so popularity does not follow the construction order.
        var random = new Random(7);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(agents));
        return agents;
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
