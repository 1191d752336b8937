using System.Buffers;
using BenchmarkDotNet.Attributes;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Benchmarks;

/// <summary>The codec on the hot path of a transfer: one request out, one 16 KiB piece in, per block.</summary>
[MemoryDiagnoser]
public class PeerWireBenchmarks
{
    private const int BlockLength = 16 * 1024;
    private readonly byte[] _block = new byte[BlockLength];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private ReadOnlySequence<byte> _piece;
    private ReadOnlySequence<byte> _request;
    private ReadOnlySequence<byte> _pieceSplit;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_block);
        var piece = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WritePiece(piece, 7, 3 * BlockLength, _block);
        _piece = new ReadOnlySequence<byte>(piece.WrittenMemory);

        // The header straddling two pipe segments: the reader's copy-out path.
        var first = new Segment(piece.WrittenMemory[..7]);
        var second = first.Append(piece.WrittenMemory[7..]);
        _pieceSplit = new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
        var request = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteRequest(request, 7, 3 * BlockLength, BlockLength);
        _request = new ReadOnlySequence<byte>(request.WrittenMemory);
    }

    [Benchmark]
    public int DecodePiece16K()
    {
        var buffer = _piece;
        PeerMessageReader.TryRead(ref buffer, PeerMessageReader.DefaultMaxFrameLength, out var message);
        return message.Length;
    }

    [Benchmark]
    public int DecodePiece16KSplitHeader()
    {
        var buffer = _pieceSplit;
        PeerMessageReader.TryRead(ref buffer, PeerMessageReader.DefaultMaxFrameLength, out var message);
        return message.Length;
    }

    [Benchmark]
    public int DecodeRequest()
    {
        var buffer = _request;
        PeerMessageReader.TryRead(ref buffer, PeerMessageReader.DefaultMaxFrameLength, out var message);
        return message.Length;
    }

    /// <summary>Header plus a copy of the block: what a session does when it sends from memory.</summary>
    [Benchmark]
    public int EncodePiece16K()
    {
        _output.ResetWrittenCount();
        PeerMessageWriter.WritePiece(_output, 7, 3 * BlockLength, _block);
        return _output.WrittenCount;
    }

    /// <summary>Only the 13-byte header: what a session does when the block goes straight from the file.</summary>
    [Benchmark]
    public int EncodePieceHeader()
    {
        _output.ResetWrittenCount();
        PeerMessageWriter.WritePieceHeader(_output, 7, 3 * BlockLength, BlockLength);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int EncodeRequest()
    {
        _output.ResetWrittenCount();
        PeerMessageWriter.WriteRequest(_output, 7, 3 * BlockLength, BlockLength);
        return _output.WrittenCount;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
