namespace Tally.Engine;

/// <summary>What a raw field held in the record being read.</summary>
internal enum SlotKind : byte
{
    Missing = 0,
    Null,
    String,
    Int64,
}

/// <summary>
/// One field's value in the record being read: a string as a slice of the read buffer (or of the scratch buffer when
/// it had to be unescaped), or a 64-bit integer. Valid only until the next record.
/// </summary>
internal struct Slot
{
    public SlotKind Kind;
    public bool InScratch;
    public int Offset;
    public int Length;
    public long Int64;
}
