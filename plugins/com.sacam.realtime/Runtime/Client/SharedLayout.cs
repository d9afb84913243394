#nullable enable
using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace SaCam.Client
{
    /// <summary>
    /// The shared region of a session: a header, three input slots (frames, client to server) and three output slots
    /// (results, server to client). Each direction is a triple buffer: the writer fills its own slot and swaps it in
    /// with one atomic exchange, the reader takes the newest with another; neither ever waits, and a frame overwritten
    /// before it was read is a drop. All numbers little-endian. The TCP transport sends the same slot bytes inline.
    /// </summary>
    public static class SharedLayout
    {
        public const ulong Magic = 0x4D48534D41434153; // "SACAMSHM"
        public const int LayoutVersion = 2;
        public const int HeaderBytes = 256;
        public const int InputHeaderBytes = 64;
        public const int OutputHeaderBytes = 2048;
        public const int Slots = 3;
        /// <summary>Room for the map in an output slot (a 1024x1024 R8 map).</summary>
        public const int MapCapacity = 1 << 20;
        public const int LabelCapacity = 124;
        public const int DiagnosticsCapacity = 16;
        public const int DiagnosticNameBytes = 24;
        public const int ErrorCapacity = 252;
        /// <summary>Objects an output slot carries (object targets: det:, seg:); a frame with more says how many it found.</summary>
        public const int ObjectCapacity = 12;
        public const int ObjectBytes = 80;
        public const int ObjectLabelCapacity = 32;

        // Header fields.
        public const int MagicOffset = 0, VersionOffset = 8, GenerationOffset = 16, ServerPidOffset = 24, HeartbeatOffset = 32,
            InputStateOffset = 40, OutputStateOffset = 44, InputCapacityOffset = 48, OutputCapacityOffset = 52,
            PublishedOffset = 56, ConsumedOffset = 64, ResultsOffset = 72;

        // Input slot fields.
        public const int InFrameId = 0, InWidth = 8, InHeight = 12, InStride = 16, InFormat = 20, InFlags = 24, InCaptureTicks = 32;

        // Output slot fields.
        public const int OutFrameId = 0, OutStatus = 8, OutClass = 12, OutScore = 16, OutLatency = 20, OutExplain = 24, OutMapWidth = 28,
            OutMapHeight = 32, OutFrameWidth = 36, OutFrameHeight = 40, OutSourceRect = 44, OutTargetRect = 60, OutOverlayBytes = 76,
            OutLabelLength = 80, OutLabel = 84, OutTop5 = 208, OutDiagnosticsCount = 248, OutDiagnostics = 256, OutErrorLength = 768,
            OutError = 772, OutObjectCount = 1024, OutObjectsFound = 1028, OutObjects = 1032;

        // Fields of one object record (at OutObjects + ObjectBytes * i): box and peak in the submitted frame's pixels.
        public const int ObjTrack = 0, ObjClass = 4, ObjScore = 8, ObjBox = 12, ObjPeak = 28, ObjEnergyInBox = 36, ObjExplainMs = 40,
            ObjLabelLength = 44, ObjLabel = 48;

        /// <summary>Triple-buffer state word: the index of the slot in the middle, and this bit when it is new.</summary>
        public const int Dirty = 4;

        public static int InputCapacityFor(int maxWidth, int maxHeight) => checked(maxWidth * maxHeight * 4);

        public static int OutputCapacityFor(int maxWidth, int maxHeight, bool overlay) =>
            checked(MapCapacity + (overlay ? maxWidth * maxHeight * 4 : 0));

        public static long InputSlotOffset(int slot, int inputCapacity) => HeaderBytes + (long)slot * (InputHeaderBytes + inputCapacity);

        public static long OutputSlotOffset(int slot, int inputCapacity, int outputCapacity) =>
            InputSlotOffset(Slots, inputCapacity) + (long)slot * (OutputHeaderBytes + outputCapacity);

        public static long TotalBytes(int inputCapacity, int outputCapacity) => OutputSlotOffset(Slots, inputCapacity, outputCapacity);
    }

    /// <summary>
    /// One direction of the triple buffer over a state word in shared memory. The writer owns one slot (its "back"),
    /// the reader one ("front"), and the third sits in the middle; Interlocked.Exchange on the word swaps the writer's
    /// or the reader's slot with the middle one. Works across processes: the word lives in the mapped file.
    /// </summary>
    public unsafe struct TripleBuffer
    {
        private readonly int* _state;
        private int _own;

        /// <param name="state">The state word (initialised to 1 by the server: slot 1 in the middle, not new).</param>
        /// <param name="writer">Writers start owning slot 0, readers slot 2.</param>
        public TripleBuffer(int* state, bool writer)
        {
            _state = state;
            _own = writer ? 0 : 2;
        }

        /// <summary>The slot this side reads from or writes into now.</summary>
        public int Own => _own;

        /// <summary>Writer: publishes the own slot as the newest; returns true when the one it replaced was never read (a drop).</summary>
        public bool Publish()
        {
            int previous = Interlocked.Exchange(ref *_state, _own | SharedLayout.Dirty);
            _own = previous & 3;
            return (previous & SharedLayout.Dirty) != 0;
        }

        /// <summary>Reader: takes the newest slot if there is one since the last take.</summary>
        public bool TryTake()
        {
            if ((Volatile.Read(ref *_state) & SharedLayout.Dirty) == 0) return false;
            _own = Interlocked.Exchange(ref *_state, _own) & 3;
            return true;
        }
    }

    /// <summary>Reads and writes the fields of the layout at a base pointer.</summary>
    public static unsafe class Fields
    {
        public static int I32(byte* p, int offset) => BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(p + offset, 4));
        public static long I64(byte* p, int offset) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(p + offset, 8));
        public static float F32(byte* p, int offset) => BitConverter.Int32BitsToSingle(I32(p, offset));
        public static double F64(byte* p, int offset) => BitConverter.Int64BitsToDouble(I64(p, offset));
        public static void I32(byte* p, int offset, int v) => BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(p + offset, 4), v);
        public static void I64(byte* p, int offset, long v) => BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(p + offset, 8), v);
        public static void F32(byte* p, int offset, float v) => I32(p, offset, BitConverter.SingleToInt32Bits(v));
        public static void F64(byte* p, int offset, double v) => I64(p, offset, BitConverter.DoubleToInt64Bits(v));

        /// <summary>UTF-8 text of at most <paramref name="capacity"/> bytes after an i32 length.</summary>
        public static void Text(byte* p, int lengthOffset, int textOffset, int capacity, string text)
        {
            var span = new Span<byte>(p + textOffset, capacity);
            int max = Math.Min(text.Length, capacity / 3);
            int written = Encoding.UTF8.GetBytes(text.AsSpan(0, max), span);
            I32(p, lengthOffset, written);
        }

        public static string Text(byte* p, int lengthOffset, int textOffset, int capacity)
        {
            int length = Math.Max(0, Math.Min(I32(p, lengthOffset), capacity));
            return Encoding.UTF8.GetString(p + textOffset, length);
        }

        /// <summary>Copies bytes between native memory and a managed buffer without allocating.</summary>
        public static void Copy(byte* source, byte[] destination, int length) => Marshal.Copy((IntPtr)source, destination, 0, length);
    }
}
