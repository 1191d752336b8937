using P2PRegistry.Origin.Uploads;
using P2PRegistry.Testing.FileSystem;

namespace P2PRegistry.Origin.Tests.Uploads;

/// <summary>A session's reservation under the in-flight limit: added to, released once, closed after release.</summary>
public sealed class UploadReservationTests
{
    [Fact]
    public void Reservation_AddsUp_IsReleasedOnce_AndTakesNothingAfterRelease()
    {
        using var directory = new TempDirectory("reservation");
        using var session = new UploadSession("id", "team/app", "127.0.0.1", directory.Path, 0);

        Assert.True(session.TryAddReserved(100));
        Assert.True(session.TryAddReserved(28));
        Assert.Equal(128, session.Reserved);

        Assert.Equal(128, session.ReleaseReserved());
        Assert.Equal(0, session.Reserved);
        Assert.Equal(0, session.ReleaseReserved());

        // A reservation racing the session's removal must fail, or its bytes would stay counted for nobody.
        Assert.False(session.TryAddReserved(64));
        Assert.Equal(0, session.Reserved);
        Assert.Equal(0, session.ReleaseReserved());
    }
}
