using System.Runtime.CompilerServices;
using System.Text;

namespace Tally;

/// <summary>
/// A strict, allocation-free parser for the ISO-8601 date-times the raw contract accepts:
/// <c>YYYY-MM-DDThh:mm[:ss[.fraction]]</c> followed by <c>Z</c>, <c>±hh:mm</c>, <c>±hhmm</c>, <c>±hh</c> or nothing (UTC).
/// A space may stand for the <c>T</c>. Fractions beyond 100 ns are truncated.
/// </summary>
public static class Iso8601
{
    /// <summary>Parses <paramref name="text"/> to the ticks of the UTC instant it names. Thread-safe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseUtcTicks(ReadOnlySpan<byte> text, out long utcTicks)
    {
        utcTicks = 0;
        // yyyy-MM-ddTHH:mm is the shortest accepted form (16 bytes).
        if (text.Length < 16 || text.Length > 64) return false;
        if (!Digits(text, 0, 4, out var year) || text[4] != '-'
            || !Digits(text, 5, 2, out var month) || text[7] != '-'
            || !Digits(text, 8, 2, out var day)
            || (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
            || !Digits(text, 11, 2, out var hour) || text[13] != ':'
            || !Digits(text, 14, 2, out var minute))
        {
            return false;
        }
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59)
        {
            return false;
        }

        var i = 16;
        var second = 0;
        long fractionTicks = 0;
        if (i < text.Length && text[i] == ':')
        {
            if (!Digits(text, i + 1, 2, out second) || second > 59) return false;
            i += 3;
            if (i < text.Length && (text[i] == '.' || text[i] == ','))
            {
                i++;
                var start = i;
                long scale = TimeSpan.TicksPerSecond;
                while (i < text.Length && IsDigit(text[i]))
                {
                    if (scale > 1)
                    {
                        scale /= 10;
                        fractionTicks += (text[i] - '0') * scale;
                    }
                    i++;
                }
                if (i == start) return false;
            }
        }

        long offsetTicks = 0;
        if (i < text.Length)
        {
            var sign = text[i];
            if (sign is (byte)'Z' or (byte)'z')
            {
                i++;
            }
            else if (sign is (byte)'+' or (byte)'-')
            {
                if (!Digits(text, i + 1, 2, out var offsetHours) || offsetHours > 23) return false;
                i += 3;
                var offsetMinutes = 0;
                if (i < text.Length)
                {
                    if (text[i] == ':') i++;
                    if (!Digits(text, i, 2, out offsetMinutes) || offsetMinutes > 59) return false;
                    i += 2;
                }
                offsetTicks = (offsetHours * 60L + offsetMinutes) * TimeSpan.TicksPerMinute;
                if (sign == '-') offsetTicks = -offsetTicks;
            }
            else
            {
                return false;
            }
        }
        if (i != text.Length) return false;

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks + fractionTicks;
        var utc = local - offsetTicks;
        if (utc < DateTime.MinValue.Ticks || utc > DateTime.MaxValue.Ticks) return false;
        utcTicks = utc;
        return true;
    }

    /// <summary>Parses <paramref name="text"/> like the UTF-8 overload.</summary>
    public static bool TryParseUtcTicks(string? text, out long utcTicks)
    {
        utcTicks = 0;
        if (text is null || text.Length > 64) return false;
        Span<byte> utf8 = stackalloc byte[256];
        var ok = Encoding.UTF8.TryGetBytes(text.AsSpan(), utf8, out var written);
        return ok && TryParseUtcTicks(utf8[..written], out utcTicks);
    }

    private static bool IsDigit(byte b) => unchecked((uint)(b - '0')) <= 9;

    private static bool Digits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        if (start + count > text.Length) return false;
        for (var k = start; k < start + count; k++)
        {
            if (!IsDigit(text[k])) return false;
            value = value * 10 + (text[k] - '0');
        }
        return true;
    }
}
