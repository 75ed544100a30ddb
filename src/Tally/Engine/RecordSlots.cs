namespace Tally.Engine;

/// <summary>What a raw field held in the record being read.</summary>
internal enum SlotKind : byte
{
    Missing = 0,
    Null,
    String,
    Int64,
    /// <summary>A double, its bits in <see cref="Slot.Int64"/>.</summary>
    Double,
    /// <summary>A boolean, 0 or 1 in <see cref="Slot.Int64"/>.</summary>
    Boolean,
}

/// <summary>
/// One field's value in the record being read: a string as a slice of the read buffer (or of the scratch buffer when
/// it had to be unescaped; a timestamp keeps its text), or a 64-bit integer, double (its bits) or boolean (0 or 1) in
/// <see cref="Int64"/>. Valid only until the next record.
/// </summary>
internal struct Slot
{
    public SlotKind Kind;
    public bool InScratch;
    public int Offset;
    public int Length;
    public long Int64;
}
