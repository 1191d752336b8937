using System.Buffers;

namespace P2PRegistry.Core.Tests.Wire;

/// <summary>Builds multi-segment sequences, as a pipe hands them out when a frame straddles its buffers.</summary>
internal static class Segments
{
    /// <summary>The bytes cut at the given offsets (ascending; a repeated offset makes an empty segment).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, params int[] cuts)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        var previous = 0;
        foreach (var cut in cuts)
        {
            pieces.Add(data[previous..cut]);
            previous = cut;
        }

        pieces.Add(data[previous..]);
        return Join(pieces);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> Bytewise(ReadOnlyMemory<byte> data) =>
        Join(Enumerable.Range(0, data.Length).Select(i => data.Slice(i, 1)).ToList());

    public static ReadOnlySequence<byte> Join(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        // Each segment gets its own copy, so a reader that slices across them must really walk segments.
        var first = new Segment(pieces[0].ToArray(), 0);
        var last = first;
        for (var i = 1; i < pieces.Count; i++)
        {
            last = last.Append(pieces[i].ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
