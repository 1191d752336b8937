namespace P2PRegistry.Swarm.PiecePicking;

/// <summary>The blocks of a piece being downloaded: who was asked for each, and what arrived.</summary>
internal sealed class PieceProgress
{
    public const int NoPeer = -1;

    public PieceProgress(int index, int blockCount)
    {
        Index = index;
        Requester = new int[blockCount];
        Received = new bool[blockCount];
        Reset();
    }

    public int Index { get; }

    public int BlockCount => Requester.Length;

    /// <summary>The first peer asked for each block, or <see cref="NoPeer"/> while it is open.</summary>
    public int[] Requester { get; }

    public bool[] Received { get; }

    /// <summary>In endgame a block is asked of more peers: (block, peer) pairs beyond <see cref="Requester"/>.</summary>
    public List<(int Block, int Peer)> ExtraRequesters { get; } = [];

    public int OpenCount { get; set; }

    public int ReceivedCount { get; set; }

    /// <summary>The peers whose bytes are in the piece: the suspects if its hash fails.</summary>
    public List<int> Contributors { get; } = [];

    /// <summary>After a failed hash with several contributors: the next attempt comes from one peer only.</summary>
    public bool Exclusive { get; set; }

    /// <summary>The peer an exclusive piece is assigned to.</summary>
    public int Owner { get; set; } = NoPeer;

    public bool IsRequestedBy(int block, int peer)
    {
        if (Requester[block] == peer)
        {
            return true;
        }

        foreach (var (b, p) in ExtraRequesters)
        {
            if (b == block && p == peer)
            {
                return true;
            }
        }

        return false;
    }

    public void Reset()
    {
        Array.Fill(Requester, NoPeer);
        Array.Clear(Received);
        ExtraRequesters.Clear();
        Contributors.Clear();
        OpenCount = BlockCount;
        ReceivedCount = 0;
        Owner = NoPeer;
    }
}
