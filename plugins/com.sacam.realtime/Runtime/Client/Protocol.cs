// SaCam engine protocol, version 1: shared by `sacam serve` (net10) and this client (netstandard2.1, C# 9, no
// package dependencies, so that Unity's Mono and IL2CPP compile it as it is). docs/engine-protocol.md describes it
// for other engines (Godot, Unreal, Python).
#nullable enable
using System;
using System.Buffers.Binary;
using System.Text;

namespace SaCam.Client
{
    /// <summary>Message types on the control channel (TCP on 127.0.0.1).</summary>
    public enum MessageType : ushort
    {
        /// <summary>client: protocol version, token, the largest frame it will send, what it wants back, transport.</summary>
        Hello = 1,
        /// <summary>server: loading (with progress), ready, or failed (with the reason).</summary>
        Status = 2,
        /// <summary>server: the shared-memory file to map, its generation and layout.</summary>
        Attach = 3,
        /// <summary>client: a new frame is in the input triple buffer (one byte payload, coalesced).</summary>
        Doorbell = 4,
        /// <summary>client, TCP transport: a frame inline (slot header and pixels).</summary>
        Frame = 5,
        /// <summary>server, TCP transport: a result inline (slot header, map and overlay).</summary>
        Result = 6,
        /// <summary>server, once a second: counters (frames received, explained, dropped).</summary>
        Stats = 7,
        /// <summary>server: the session cannot go on; i32 fatal (1: do not retry), then the reason.</summary>
        Error = 8,
        /// <summary>client: frames larger than the agreed capacity will come; please attach a larger file.</summary>
        Resize = 9,
        /// <summary>either side: the session ends.</summary>
        Bye = 10,
    }

    /// <summary>Where frames and results travel.</summary>
    public enum Transport : int
    {
        /// <summary>A file-backed memory map (/dev/shm on Linux, the temp folder on macOS, a named map on Windows).</summary>
        SharedMemory = 0,
        /// <summary>Inline on the control socket: for players where maps fail, or a server on another machine.</summary>
        Tcp = 1,
    }

    /// <summary>What the server is doing for a session.</summary>
    public enum ServerStatus : int
    {
        Loading = 0,
        Ready = 1,
        Failed = 2,
    }

    /// <summary>Flags of an input frame.</summary>
    [Flags]
    public enum FrameFlags : int
    {
        None = 0,
        /// <summary>Rows are stored bottom row first (Unity textures, OpenGL read-backs); the server flips them.</summary>
        BottomUp = 1,
    }

    /// <summary>Protocol constants.</summary>
    public static class Protocol
    {
        /// <summary>Bumped whenever a message or the shared layout changes meaning; both sides refuse another.</summary>
        public const ushort Version = 2;

        /// <summary>The line `sacam serve` prints on stdout once it listens: "SACAM-SERVE 2 ready port=P pid=Q".</summary>
        public const string ReadyLinePrefix = "SACAM-SERVE";

        /// <summary>Environment variable that carries the session token to a server the client starts.</summary>
        public const string TokenVariable = "SACAM_TOKEN";

        /// <summary>Largest control message (a TCP-transport frame of 3840x2160 RGBA and its header fits).</summary>
        public const int MaxMessageBytes = 64 << 20;

        /// <summary>Message header: u32 payload length, u16 type (little-endian).</summary>
        public const int HeaderBytes = 6;

        public static void WriteHeader(Span<byte> buffer, MessageType type, int payloadLength)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, payloadLength);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.Slice(4), (ushort)type);
        }

        public static (MessageType Type, int Length) ReadHeader(ReadOnlySpan<byte> buffer) =>
            ((MessageType)BinaryPrimitives.ReadUInt16LittleEndian(buffer.Slice(4)), BinaryPrimitives.ReadInt32LittleEndian(buffer));
    }

    /// <summary>Hello: what a client asks for.</summary>
    public sealed class HelloMessage
    {
        public ushort ProtocolVersion = Protocol.Version;
        public string Token = "";
        public int MaxWidth = 1920;
        public int MaxHeight = 1080;
        public bool WantOverlay;
        public Transport Transport = Transport.SharedMemory;

        public int Write(byte[] buffer)
        {
            var w = new FieldWriter(buffer, Protocol.HeaderBytes);
            w.U16(ProtocolVersion);
            w.String(Token);
            w.I32(MaxWidth);
            w.I32(MaxHeight);
            w.I32(WantOverlay ? 1 : 0);
            w.I32((int)Transport);
            Protocol.WriteHeader(buffer, MessageType.Hello, w.Position - Protocol.HeaderBytes);
            return w.Position;
        }

        public static HelloMessage Read(ReadOnlySpan<byte> payload)
        {
            var r = new FieldReader(payload);
            return new HelloMessage
            {
                ProtocolVersion = r.U16(), Token = r.String(), MaxWidth = r.I32(), MaxHeight = r.I32(), WantOverlay = r.I32() != 0,
                Transport = (Transport)r.I32(),
            };
        }
    }

    /// <summary>Status: loading with a progress in [0, 1], ready, or failed with the reason.</summary>
    public sealed class StatusMessage
    {
        public ServerStatus Status;
        public float Progress;
        public string Text = "";
        /// <summary>The server's protocol version (a client with another one shows both in its error).</summary>
        public ushort ServerProtocol = Protocol.Version;

        public int Write(byte[] buffer)
        {
            var w = new FieldWriter(buffer, Protocol.HeaderBytes);
            w.I32((int)Status);
            w.F32(Progress);
            w.String(Text);
            w.U16(ServerProtocol);
            Protocol.WriteHeader(buffer, MessageType.Status, w.Position - Protocol.HeaderBytes);
            return w.Position;
        }

        public static StatusMessage Read(ReadOnlySpan<byte> payload, StatusMessage into)
        {
            var r = new FieldReader(payload);
            into.Status = (ServerStatus)r.I32();
            into.Progress = r.F32();
            into.Text = r.String();
            into.ServerProtocol = r.U16();
            return into;
        }
    }

    /// <summary>Attach: the shared-memory file (or, on Windows, map name) to open, and what it holds.</summary>
    public sealed class AttachMessage
    {
        /// <summary>The transport the server chose: the client's, or TCP when no shared file could be made.</summary>
        public Transport Transport;
        public string Path = "";
        public long Generation;
        public int InputCapacity;
        public int OutputCapacity;
        public long TotalBytes;

        public int Write(byte[] buffer)
        {
            var w = new FieldWriter(buffer, Protocol.HeaderBytes);
            w.I32((int)Transport);
            w.String(Path);
            w.I64(Generation);
            w.I32(InputCapacity);
            w.I32(OutputCapacity);
            w.I64(TotalBytes);
            Protocol.WriteHeader(buffer, MessageType.Attach, w.Position - Protocol.HeaderBytes);
            return w.Position;
        }

        public static AttachMessage Read(ReadOnlySpan<byte> payload)
        {
            var r = new FieldReader(payload);
            return new AttachMessage
            {
                Transport = (Transport)r.I32(), Path = r.String(), Generation = r.I64(), InputCapacity = r.I32(), OutputCapacity = r.I32(), TotalBytes = r.I64(),
            };
        }
    }

    /// <summary>Stats: what the server counted for the session.</summary>
    public sealed class StatsMessage
    {
        public long FramesReceived;
        public long FramesExplained;
        public long FramesDropped;
        public float ExplainMs;

        public int Write(byte[] buffer)
        {
            var w = new FieldWriter(buffer, Protocol.HeaderBytes);
            w.I64(FramesReceived);
            w.I64(FramesExplained);
            w.I64(FramesDropped);
            w.F32(ExplainMs);
            Protocol.WriteHeader(buffer, MessageType.Stats, w.Position - Protocol.HeaderBytes);
            return w.Position;
        }

        public static void Read(ReadOnlySpan<byte> payload, StatsMessage into)
        {
            var r = new FieldReader(payload);
            into.FramesReceived = r.I64();
            into.FramesExplained = r.I64();
            into.FramesDropped = r.I64();
            into.ExplainMs = r.F32();
        }
    }

    /// <summary>Little-endian fields into a buffer; strings are u16 length + UTF-8.</summary>
    public ref struct FieldWriter
    {
        private readonly Span<byte> _buffer;
        public int Position;

        public FieldWriter(Span<byte> buffer, int start)
        {
            _buffer = buffer;
            Position = start;
        }

        public void U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_buffer.Slice(Position), v); Position += 2; }
        public void I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(_buffer.Slice(Position), v); Position += 4; }
        public void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(_buffer.Slice(Position), v); Position += 8; }
        public void F32(float v) => I32(BitConverter.SingleToInt32Bits(v));

        public void String(string text)
        {
            int length = Encoding.UTF8.GetBytes(text, _buffer.Slice(Position + 2));
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.Slice(Position), (ushort)length);
            Position += 2 + length;
        }
    }

    /// <summary>Reads what <see cref="FieldWriter"/> wrote.</summary>
    public ref struct FieldReader
    {
        private readonly ReadOnlySpan<byte> _buffer;
        public int Position;

        public FieldReader(ReadOnlySpan<byte> buffer)
        {
            _buffer = buffer;
            Position = 0;
        }

        public ushort U16() { var v = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.Slice(Position)); Position += 2; return v; }
        public int I32() { var v = BinaryPrimitives.ReadInt32LittleEndian(_buffer.Slice(Position)); Position += 4; return v; }
        public long I64() { var v = BinaryPrimitives.ReadInt64LittleEndian(_buffer.Slice(Position)); Position += 8; return v; }
        public float F32() => BitConverter.Int32BitsToSingle(I32());

        public string String()
        {
            int length = U16();
            var text = Encoding.UTF8.GetString(_buffer.Slice(Position, length));
            Position += length;
            return text;
        }
    }
}
