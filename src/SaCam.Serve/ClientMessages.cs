using System.Buffers.Binary;
using System.Text;
using SaCam.Client;

namespace SaCam.Serve;

/// <summary>A client broke the protocol: its session ends with this text, sent to it and written on the server's stderr.</summary>
internal sealed class BadMessageException(string message) : Exception(message);

/// <summary>The shape of a frame as its slot header gives it.</summary>
internal readonly record struct FrameShape(long FrameId, int Width, int Height, int Stride)
{
    public long PixelBytes => (long)Stride * Height;
}

/// <summary>
/// Reads what a client sends, checking every length against the payload and every field against its range before
/// anything is used, so that no message can reach a field reader past its end (a 2-byte Hello, a token length of
/// 60000 in a 4-byte payload, an empty Resize once ended the whole process). What fails here throws
/// <see cref="BadMessageException"/>, which ends that session only.
/// </summary>
internal static class ClientMessages
{
    /// <summary>The largest frame side a session takes (Hello and Resize).</summary>
    public const int MaxSide = 8192;

    /// <summary>Hello's fixed fields after the token: max width, max height, want overlay, transport.</summary>
    private const int HelloTailBytes = 16;

    /// <summary>A Hello. A client of another protocol version gets its version back with nothing else read (its Hello
    /// may be laid out otherwise), so that the handshake can name both versions.</summary>
    public static HelloMessage ReadHello(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2) throw new BadMessageException($"a Hello of {payload.Length} bytes holds no protocol version (2 bytes)");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        if (version != Protocol.Version) return new HelloMessage { ProtocolVersion = version };
        if (payload.Length < 4) throw new BadMessageException($"a Hello of {payload.Length} bytes holds no token length");
        int tokenBytes = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
        int expected = 4 + tokenBytes + HelloTailBytes;
        if (payload.Length != expected)
            throw new BadMessageException($"a Hello of {payload.Length} bytes whose token length says {tokenBytes} bytes (that Hello has {expected})");
        var tail = payload[(4 + tokenBytes)..];
        var hello = new HelloMessage
        {
            ProtocolVersion = version,
            Token = Encoding.UTF8.GetString(payload.Slice(4, tokenBytes)),
            MaxWidth = BinaryPrimitives.ReadInt32LittleEndian(tail),
            MaxHeight = BinaryPrimitives.ReadInt32LittleEndian(tail[4..]),
        };
        int overlay = BinaryPrimitives.ReadInt32LittleEndian(tail[8..]);
        int transport = BinaryPrimitives.ReadInt32LittleEndian(tail[12..]);
        if (overlay is not (0 or 1)) throw new BadMessageException($"a Hello whose want-overlay field is {overlay} (0 or 1)");
        if (transport is not ((int)Transport.SharedMemory or (int)Transport.Tcp))
            throw new BadMessageException($"a Hello whose transport is {transport} (0 shared memory, 1 TCP)");
        hello.WantOverlay = overlay == 1;
        hello.Transport = (Transport)transport;
        return hello;
    }

    /// <summary>Whether a frame of this size is served (the Hello's and Resize's limits).</summary>
    public static bool SizeServed(int width, int height) => width is > 0 and <= MaxSide && height is > 0 and <= MaxSide;

    /// <summary>A Resize: exactly two sides within 1..<see cref="MaxSide"/>.</summary>
    public static (int Width, int Height) ReadResize(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 8) throw new BadMessageException($"a Resize of {payload.Length} bytes (it has 8: width, height)");
        int width = BinaryPrimitives.ReadInt32LittleEndian(payload), height = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        if (!SizeServed(width, height)) throw new BadMessageException($"a Resize to {width}x{height} (1 to {MaxSide} a side)");
        return (width, height);
    }

    /// <summary>A Doorbell: one byte.</summary>
    public static void CheckDoorbell(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 1) throw new BadMessageException($"a Doorbell of {payload.Length} bytes (it has 1)");
    }

    /// <summary>A Frame (TCP transport): a 64-byte slot header whose sizes agree with each other and with the pixels
    /// that follow. Whether the frame fits the session is the session's question (a frame that does not fit gets an
    /// error result, and the session goes on).</summary>
    public static FrameShape ReadFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < SharedLayout.InputHeaderBytes)
            throw new BadMessageException($"a Frame of {payload.Length} bytes, shorter than its {SharedLayout.InputHeaderBytes}-byte header");
        var shape = ReadShape(payload);
        long expected = SharedLayout.InputHeaderBytes + shape.PixelBytes;
        if (payload.Length != expected)
            throw new BadMessageException($"a Frame of {payload.Length} bytes whose header says {shape.Width}x{shape.Height}, stride {shape.Stride} ({expected} bytes)");
        return shape;
    }

    /// <summary>The sizes of an input slot's header (a Frame's, or a slot the client wrote into the shared file),
    /// checked against each other: a side within 1..<see cref="MaxSide"/>, RGBA, a stride that holds a row
    /// (computed in 64 bits: a width of 2^30 once made width * 4 wrap to a stride that passed).</summary>
    public static FrameShape ReadShape(ReadOnlySpan<byte> header)
    {
        long frameId = BinaryPrimitives.ReadInt64LittleEndian(header[SharedLayout.InFrameId..]);
        int width = BinaryPrimitives.ReadInt32LittleEndian(header[SharedLayout.InWidth..]);
        int height = BinaryPrimitives.ReadInt32LittleEndian(header[SharedLayout.InHeight..]);
        int stride = BinaryPrimitives.ReadInt32LittleEndian(header[SharedLayout.InStride..]);
        int format = BinaryPrimitives.ReadInt32LittleEndian(header[SharedLayout.InFormat..]);
        if (!SizeServed(width, height)) throw new BadMessageException($"frame {frameId} of {width}x{height} (1 to {MaxSide} a side)");
        if (format != 0) throw new BadMessageException($"frame {frameId} in format {format} (0: RGBA is the only one)");
        if (stride < 4L * width) throw new BadMessageException($"frame {frameId} of width {width} with a stride of {stride} bytes (at least {4 * width})");
        return new FrameShape(frameId, width, height, stride);
    }

    /// <summary>What a message of a type no client sends is called in the error.</summary>
    public static string Describe(MessageType type) =>
        Enum.IsDefined(type) ? $"a {type} message, which clients do not send here" : $"a message of unknown type {(ushort)type}";
}
