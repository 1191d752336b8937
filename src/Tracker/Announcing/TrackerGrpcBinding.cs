using Google.Protobuf;
using Grpc.Core;
using P2PRegistry.Contracts.Tracker;

namespace P2PRegistry.Tracker.Announcing;

/// <summary>
/// The tracker's gRPC methods (proto/tracker.proto's <c>Tracker</c> service) as the generated <c>Tracker.BindService</c>
/// binds them, but with the announce answer written by <see cref="GrpcAnnounceAnswer"/>. ASP.NET Core finds each
/// method's implementation by name among the overrides of this type's abstract methods.
/// </summary>
[BindServiceMethod(typeof(TrackerGrpcBinding), nameof(BindService))]
internal abstract class TrackerGrpcBinding
{
    private static readonly Method<AnnounceRequest, GrpcAnnounceAnswer> s_announce = new(
        MethodType.Unary,
        Contracts.Tracker.Tracker.Descriptor.FullName,
        nameof(Announce),
        MessageMarshaller(AnnounceRequest.Parser),
        GrpcAnnounceAnswer.Marshaller);

    private static readonly Method<GetMetaInfoRequest, GetMetaInfoResponse> s_getMetaInfo = new(
        MethodType.Unary,
        Contracts.Tracker.Tracker.Descriptor.FullName,
        nameof(GetMetaInfo),
        MessageMarshaller(GetMetaInfoRequest.Parser),
        MessageMarshaller(GetMetaInfoResponse.Parser));

    public abstract Task<GrpcAnnounceAnswer> Announce(AnnounceRequest request, ServerCallContext context);

    public abstract Task<GetMetaInfoResponse> GetMetaInfo(GetMetaInfoRequest request, ServerCallContext context);

    public static void BindService(ServiceBinderBase binder, TrackerGrpcBinding? service)
    {
        ArgumentNullException.ThrowIfNull(binder);
        binder.AddMethod(s_announce, service is null ? null : service.Announce);
        binder.AddMethod(s_getMetaInfo, service is null ? null : service.GetMetaInfo);
    }

    // As the generated code marshals messages: sized first, then written into the transport's buffer.
    private static Marshaller<T> MessageMarshaller<T>(MessageParser<T> parser)
        where T : IMessage<T>, IBufferMessage =>
        Marshallers.Create<T>(
            static (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));
}
