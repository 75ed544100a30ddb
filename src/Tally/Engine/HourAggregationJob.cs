using System.Collections.Concurrent;
using System.Diagnostics;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>Progress of a run: raw files and bytes read so far, out of the total.</summary>
public readonly record struct RunProgress(int FilesDone, int FilesTotal, long BytesDone, long BytesTotal);

/// <summary>
/// Aggregates one hour: reads every raw file of the hour once, in parallel across files and across the byte ranges of large
/// uncompressed files (<see cref="FileSplits"/>), computes every configured table in
/// that one pass, and replaces each table's file for the hour atomically. Rejected records go to
/// <c>quarantine/…/rejected.jsonl</c>; when their share exceeds <see cref="TallyOptions.RejectedThreshold"/> the run fails and
/// leaves the tables as they were. Memory is bounded by the number of distinct keys, not by the input size.
/// </summary>
public sealed class HourAggregationJob
{
    private readonly IObjectStore _store;
    private readonly TallyOptions _options;
    private readonly IReadOnlyList<TableDefinition> _tables;

    /// <exception cref="TallyException">When <paramref name="options"/> are not valid.</exception>
    public HourAggregationJob(IObjectStore store, TallyOptions options)
    {
        options.Validate();
        _store = store;
        _options = options;
        _tables = options.Tables();
    }

    /// <summary>The initial size of each worker's read buffer; tests make it tiny so records straddle refills.</summary>
    internal int ReadBufferBytes { get; init; } = RawFileReader.DefaultBufferBytes;

    /// <summary>The smallest range a large uncompressed file is split into (<see cref="FileSplits"/>); tests make it tiny.</summary>
    internal long SplitBytes { get; init; } = FileSplits.DefaultSplitBytes;

    /// <summary>The most ranges one file is split into; null for four per worker. Tests raise it to split at many points.</summary>
    internal int? MaxSplitsPerFile { get; init; }

    /// <summary>Runs the hour. A data error (too many rejected records) gives a report with status failed.</summary>
    /// <exception cref="TallyException">When storage fails (Transient) or a file cannot be read.</exception>
    /// <exception cref="OperationCanceledException">When cancelled while reading; the tables are then unchanged (once read,
    /// the hour is written to the end).</exception>
    public async Task<RunReport> RunAsync(HourWindow hour, IProgress<RunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        // Parquet.Net's first use costs about 0.15 s of JIT: pay it on the side while the files are read, not after.
        var parquetReady = TableWriter.PrepareAsync(_tables);
        var files = await RawFiles.ListAsync(_store, hour, cancellationToken).ConfigureAwait(false);
        var fingerprint = RawFiles.Fingerprint(files);
        var bytesTotal = files.Sum(f => f.Size);

        var read = await ReadAllAsync(files, hour, split: true, progress, bytesTotal, cancellationToken).ConfigureAwait(false);
        if (read.SplitFailed)
        {
            // A split point that the reading did not confirm as a record boundary (see FileSplits): read the hour again whole.
            read.Rejects.Dispose();
            read = await ReadAllAsync(files, hour, split: false, progress, bytesTotal, cancellationToken).ConfigureAwait(false);
        }
        using var rejects = read.Rejects;
        var kinds = read.Kinds;

        // The first worker's counts are the base: merging the others into it costs one pass less than into a new one.
        var parts = read.Parts;
        var total = parts.Count > 0 ? parts[0] : new HourAggregate(_options.Source, _tables);
        foreach (var part in parts.Skip(1)) total.MergeFrom(part);

        // Once read, the hour is written whole: a stop after this point waits for the few atomic writes instead of
        // leaving some tables replaced and others not (a stop while reading leaves them all as they were).
        cancellationToken.ThrowIfCancellationRequested();
        var writing = CancellationToken.None;
        var quarantineKey = DataLayout.QuarantineFile(hour);
        var quarantine = rejects.Count > 0 ? _store.Describe(quarantineKey) : null;

        var seen = total.Records + total.Rejected;
        var share = seen == 0 ? 0 : (double)total.Rejected / seen;
        if (share > _options.RejectedThreshold)
        {
            if (rejects.Count > 0) await _store.WriteAtomicAsync(quarantineKey, rejects.CopyToAsync, writing).ConfigureAwait(false);
            return Report(RunStatus.Failed, []) with
            {
                Error = $"{total.Rejected:N0} of {seen:N0} records ({share:P2}) were rejected, more than the threshold of {_options.RejectedThreshold:P2}; "
                    + $"the tables of {hour} were left unchanged. See {quarantine}.",
            };
        }

        // The tables and the quarantine file replace the earlier ones together or not at all: when one cannot be written
        // (a full disk), the hour's files all stay as they were. The tables are written at once (the largest, domain x
        // group id, sets the pace).
        await parquetReady.ConfigureAwait(false);
        var tables = total.ToTables();
        var bytes = new long[tables.Count];
        var writes = tables.Select((table, i) => new ObjectWrite(DataLayout.TableFile(table.Spec, hour), async (stream, ct) =>
        {
            var counting = new CountingStream(stream);
            await TableWriter.WriteAsync(table, counting, ct).ConfigureAwait(false);
            bytes[i] = counting.Written;
        })).ToList();
        if (rejects.Count > 0) writes.Add(new ObjectWrite(quarantineKey, rejects.CopyToAsync));
        await _store.WriteAllAtomicAsync(writes, writing).ConfigureAwait(false);
        if (rejects.Count == 0) await _store.DeleteAsync(quarantineKey, writing).ConfigureAwait(false);
        foreach (var table in tables)
        {
            // A table whose format changed leaves no stale file of the other format behind.
            var other = table.Spec with { Format = table.Spec.Format == TableFormat.Parquet ? TableFormat.Json : TableFormat.Parquet };
            await _store.DeleteAsync(DataLayout.TableFile(other, hour), writing).ConfigureAwait(false);
        }
        var outputs = tables.Select((table, i) =>
        {
            var key = DataLayout.TableFile(table.Spec, hour);
            return new TableOutput(table.Spec.Table, table.RowCount, _store.Describe(key), key, bytes[i]);
        }).ToList();
        return Report(RunStatus.Succeeded, outputs);

        RunReport Report(RunStatus status, IReadOnlyList<TableOutput> tables) => new()
        {
            TargetHour = hour.ToString(),
            Status = status,
            Records = total.Records,
            Rejected = total.Rejected,
            OutsideWindow = total.OutsideWindow,
            Files = files.Count,
            FileKinds = new RawFileKinds(kinds[(int)RawFileKind.Json], kinds[(int)RawFileKind.Gzip], kinds[(int)RawFileKind.Zstd], kinds[(int)RawFileKind.Unknown]),
            Bytes = bytesTotal,
            DurationMs = clock.ElapsedMilliseconds,
            InputFingerprint = fingerprint,
            Tables = tables,
            Quarantine = quarantine,
        };
    }

    /// <summary>What <see cref="ReadAllAsync"/> read: one aggregate per worker, the rejects, the files per kind, and whether a
    /// split point turned out not to be a record boundary (then nothing read is to be used).</summary>
    private sealed record ReadResult(List<HourAggregate> Parts, RejectLog Rejects, int[] Kinds, bool SplitFailed);

    /// <summary>Reads every file of the hour across the workers: whole files, and with <paramref name="split"/> the byte
    /// ranges <see cref="FileSplits"/> plans for large uncompressed ones, largest first.</summary>
    private async Task<ReadResult> ReadAllAsync(IReadOnlyList<ObjectInfo> files, HourWindow hour, bool split, IProgress<RunProgress>? progress,
        long bytesTotal, CancellationToken cancellationToken)
    {
        var rejects = new RejectLog();
        try
        {
            var workers = new ConcurrentBag<(HourAggregate Aggregate, RawFileReader Reader)>();
            var all = new ConcurrentBag<HourAggregate>();
            var filesDone = 0;
            long bytesDone = 0;
            var splitFailed = false;
            var kinds = new int[Enum.GetValues<RawFileKind>().Length];
            progress?.Report(new RunProgress(0, files.Count, 0, bytesTotal));

            var parallelism = _options.EffectiveParallelism;
            var items = new List<FileSplits.Range>();
            foreach (var file in files)
            {
                var ranges = split && parallelism > 1
                    ? await FileSplits.PlanAsync(_store, file, SplitBytes, MaxSplitsPerFile ?? 4 * parallelism, cancellationToken).ConfigureAwait(false)
                    : null;
                if (ranges is null) items.Add(new FileSplits.Range(file, null, 0, 0, file.Size));
                else items.AddRange(ranges);
            }
            // Largest first, so one big file (or range) does not start last and leave a core idle.
            var order = items.OrderByDescending(r => r.Bytes).ToList();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(order, parallel, async (range, ct) =>
            {
                if (!workers.TryTake(out var worker))
                {
                    var aggregate = new HourAggregate(_options.Source, _tables);
                    all.Add(aggregate);
                    worker = (aggregate, new RawFileReader(_options.Source, aggregate, rejects, hour, ReadBufferBytes));
                }
                var fileDone = true;
                try
                {
                    if (range.Splits is not { } splits)
                    {
                        var kind = await ReadFileAsync(worker.Reader, worker.Aggregate, rejects, range.File, ct).ConfigureAwait(false);
                        Interlocked.Increment(ref kinds[(int)kind]);
                    }
                    else
                    {
                        if (range.Index == 0) Interlocked.Increment(ref kinds[(int)RawFileKind.Json]);
                        var end = await ReadRangeAsync(worker.Reader, splits, range.Index, rejects, ct).ConfigureAwait(false);
                        fileDone = end != RangeOutcome.Read;
                        if (end == RangeOutcome.SplitFailed) splitFailed = true;
                    }
                }
                finally
                {
                    workers.Add(worker);
                }
                var bytes = Interlocked.Add(ref bytesDone, range.Bytes);
                var done = fileDone ? Interlocked.Increment(ref filesDone) : Volatile.Read(ref filesDone);
                progress?.Report(new RunProgress(done, files.Count, bytes, bytesTotal));
            }).ConfigureAwait(false);
            return new ReadResult(all.ToList(), rejects, kinds, splitFailed);
        }
        catch
        {
            rejects.Dispose();
            throw;
        }
    }

    /// <summary>How one range of a split file was read.</summary>
    private enum RangeOutcome
    {
        /// <summary>Read; other ranges of the file are still being read.</summary>
        Read,
        /// <summary>The file's last range to end: every range ended where the next starts, and the file's rejects are logged.</summary>
        FileDone,
        /// <summary>The file's last range to end, and a split point turned out not to be a record boundary.</summary>
        SplitFailed,
    }

    /// <summary>Reads range <paramref name="index"/> of a split file; when it is the file's last range to end, finishes the file.</summary>
    private async Task<RangeOutcome> ReadRangeAsync(RawFileReader reader, FileSplits splits, int index, RejectLog rejects, CancellationToken cancellationToken)
    {
        var key = splits.File.Key;
        try
        {
            await using var stored = await _store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
            // A local file can be read again: its lines are counted only when a reject needs them.
            var rereadable = (stored as FileStream)?.SafeFileHandle;
            var start = splits.Starts[index];
            if (start > 0) stored.Seek(start, SeekOrigin.Begin);
            var limit = index + 1 < splits.Starts.Length ? splits.Starts[index + 1] : long.MaxValue;
            var end = await reader.ReadRangeAsync(stored, key, start, limit, index == 0 ? null : splits.Pending[index], rereadable, cancellationToken).ConfigureAwait(false);
            if (!splits.Done(index, end)) return RangeOutcome.Read;
            return splits.Finish(rejects, rereadable) ? RangeOutcome.FileDone : RangeOutcome.SplitFailed;
        }
        catch (IOException e)
        {
            throw TallyException.Transient($"Cannot read '{_store.Describe(key)}': {e.Message}", e);
        }
    }

    /// <summary>Reads one raw file, whatever its name: its kind comes from its first bytes (<see cref="RawFileDecoder"/>).</summary>
    private async Task<RawFileKind> ReadFileAsync(RawFileReader reader, HourAggregate aggregate, RejectLog rejects, ObjectInfo file, CancellationToken cancellationToken)
    {
        await using var stored = await _store.OpenReadAsync(file.Key, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var decoder = await RawFileDecoder.OpenAsync(stored, cancellationToken).ConfigureAwait(false);
            if (decoder.Unreadable is { } unreadable)
            {
                // Binary data has no lines to count: the file is one rejected record, and the run report counts it as unknown.
                aggregate.Rejected++;
                rejects.Add(file.Key, 1, 0, unreadable, []);
                return decoder.Kind;
            }
            // A local file that is not compressed can be read again: its lines are counted only when a reject needs them.
            var rereadable = decoder.Kind == RawFileKind.Json ? (stored as FileStream)?.SafeFileHandle : null;
            var decoded = await reader.ReadAsync(decoder.Text, file.Key, rereadable, cancellationToken).ConfigureAwait(false);
            if (decoder.Damage is { } damage)
            {
                // A corrupt or truncated compressed file: what was decompressed before the damage is counted (a record cut by it
                // is rejected by the reader); the rest of the file is one rejected record, at the offset where the text stopped.
                aggregate.Rejected++;
                rejects.Add(file.Key, 0, decoded, $"the rest of the file cannot be decompressed: {damage}", []);
            }
            return decoder.Kind;
        }
        catch (IOException e)
        {
            throw TallyException.Transient($"Cannot read '{_store.Describe(file.Key)}': {e.Message}", e);
        }
    }

    /// <summary>Counts the bytes written through it.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Written += buffer.Length;
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
