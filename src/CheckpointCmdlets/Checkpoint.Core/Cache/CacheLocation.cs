namespace Checkpoint.Cache;

/// <summary>Where an entry's line is: a segment (by its number in the store), the line's offset and length.</summary>
internal readonly struct CacheLocation
{
    public CacheLocation(int segment, long offset, int length)
    {
        Segment = segment;
        Offset = offset;
        Length = length;
    }

    public int Segment { get; }

    public long Offset { get; }

    public int Length { get; }
}
