using Tally.Configuration;

namespace Tally.Tests.Configuration;

/// <summary>Settings loaded the way every command loads them (<see cref="TallySettings.Load"/>), from an empty state
/// directory and the given keys, as a command's options would give them.</summary>
internal static class SettingsFromValues
{
    public static TallySettings Load(params (string Key, string? Value)[] values)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tally-settings-" + Guid.NewGuid().ToString("N")[..8]);
        return TallySettings.Load(folder, null, values.Where(v => v.Value is not null).Select(v => KeyValuePair.Create(v.Key, v.Value)));
    }
}
