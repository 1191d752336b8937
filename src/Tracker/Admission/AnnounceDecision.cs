using System.Diagnostics.CodeAnalysis;
using P2PRegistry.Tracker.Announcing;

namespace P2PRegistry.Tracker.Admission;

/// <summary>An announce either recorded (the handout in <see cref="Result"/>) or refused, with why, for the transport to answer.</summary>
internal readonly record struct AnnounceDecision(AnnounceResult? Result, AnnounceRefusal Refusal, string? Reason)
{
    [MemberNotNullWhen(false, nameof(Result))]
    [MemberNotNullWhen(true, nameof(Reason))]
    public bool Refused => Result is null;

    public static AnnounceDecision Accepted(AnnounceResult result) => new(result, default, null);

    public static AnnounceDecision Refuse(AnnounceRefusal refusal, string reason) => new(null, refusal, reason);
}
