#nullable enable
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace SaCam.Client
{
    /// <summary>A rectangle in normalized coordinates (0..1 of the frame, or of the map).</summary>
    public struct NormalizedRect
    {
        public float X, Y, Width, Height;
    }

    /// <summary>One explained object of a result (object targets: det:, seg:), in the submitted frame's pixels.</summary>
    public sealed class SaCamObject
    {
        /// <summary>Stable across frames for detections (the server's tracker); 0 for a segment.</summary>
        public int Track;
        /// <summary>The model's class index, or -1 when the target names no class.</summary>
        public int ClassIndex;
        public string Label = "";
        public float Score;
        public float BoxX, BoxY, BoxWidth, BoxHeight;
        public float PeakX, PeakY;
        /// <summary>The share of the object's map inside its box (0..1).</summary>
        public float EnergyInBox;
        public float ExplainMs;
    }

    /// <summary>
    /// The newest result, filled in place by <see cref="SaCamClient.TryGetLatest"/>: the arrays are reused (grown only
    /// when a larger map or overlay arrives) and the label string is only made anew when the label changes, so a
    /// frame loop reads results without allocating.
    /// </summary>
    public sealed class SaCamResult
    {
        public long FrameId;
        /// <summary>The session the result came from (a new one after every reconnect).</summary>
        public long Generation;
        /// <summary>0 when explained; otherwise <see cref="Error"/> says why.</summary>
        public int Status;
        public string Error = "";
        public int ClassIndex;
        public string Label = "";
        public float Score;
        /// <summary>From the server receiving the frame to the result being published, in ms.</summary>
        public float LatencyMs;
        public float ExplainMs;
        public readonly int[] Top5Index = new int[5];
        public readonly float[] Top5Probability = new float[5];

        /// <summary>The map at the model's input resolution, one byte per pixel (0..255 for 0..1), top row first.</summary>
        public byte[] Map = new byte[0];
        public int MapWidth, MapHeight;

        /// <summary>The frame the map belongs to, and where it sits: <see cref="Source"/> is the part of the frame the
        /// model saw (normalized to the frame), <see cref="Target"/> where that part lies in the map (normalized to the
        /// map). A shader samples the map at Target.xy + (uv - Source.xy) / Source.wh * Target.wh.</summary>
        public int FrameWidth, FrameHeight;
        public NormalizedRect Source, Target;

        /// <summary>The composited overlay (RGBA, frame size, top row first) when asked for, else empty.</summary>
        public byte[] Overlay = new byte[0];
        public int OverlayBytes;

        public int DiagnosticsCount;
        public readonly string[] DiagnosticNames = new string[SharedLayout.DiagnosticsCapacity];
        public readonly double[] DiagnosticValues = new double[SharedLayout.DiagnosticsCapacity];

        /// <summary>The explained objects of an object target: the first <see cref="ObjectCount"/> entries are this
        /// result's, highest score first (the entries are reused from frame to frame). <see cref="ObjectsFound"/> is
        /// how many the frame had: more than the count when the slot had no room for all.</summary>
        public readonly SaCamObject[] Objects = NewObjects();
        public int ObjectCount;
        public int ObjectsFound;

        /// <summary>True once the server that made this result went away: the last overlay is kept, marked stale.</summary>
        public bool Stale;

        private readonly byte[] _labelBytes = new byte[SharedLayout.LabelCapacity];
        private int _labelLength = -1;
        private readonly string?[] _labels = new string?[4096];
        private long _labelsGeneration = long.MinValue;
        private readonly byte[][] _nameBytes = new byte[SharedLayout.DiagnosticsCapacity][];

        /// <summary>
        /// The map's strongest point in frame coordinates (0..1 from the frame's top-left corner), through the result's
        /// geometry: where a host draws a marker. False when the result has no map.
        /// </summary>
        public bool TryGetPeak(out float x, out float y)
        {
            int count = MapWidth * MapHeight;
            x = y = float.NaN;
            if (count <= 0 || Map.Length < count || Target.Width <= 0 || Target.Height <= 0) return false;
            int best = 0;
            for (int i = 1; i < count; i++) if (Map[i] > Map[best]) best = i;
            float mapX = (best % MapWidth + 0.5f) / MapWidth, mapY = (best / MapWidth + 0.5f) / MapHeight;
            x = Source.X + (mapX - Target.X) / Target.Width * Source.Width;
            y = Source.Y + (mapY - Target.Y) / Target.Height * Source.Height;
            return true;
        }

        /// <summary>Copies an output slot (header and payload) into this result.</summary>
        internal unsafe void ReadFrom(byte* slot, long generation)
        {
            Generation = generation;
            Stale = false;
            FrameId = Fields.I64(slot, SharedLayout.OutFrameId);
            Status = Fields.I32(slot, SharedLayout.OutStatus);
            ClassIndex = Fields.I32(slot, SharedLayout.OutClass);
            Score = Fields.F32(slot, SharedLayout.OutScore);
            LatencyMs = Fields.F32(slot, SharedLayout.OutLatency);
            ExplainMs = Fields.F32(slot, SharedLayout.OutExplain);
            MapWidth = Fields.I32(slot, SharedLayout.OutMapWidth);
            MapHeight = Fields.I32(slot, SharedLayout.OutMapHeight);
            FrameWidth = Fields.I32(slot, SharedLayout.OutFrameWidth);
            FrameHeight = Fields.I32(slot, SharedLayout.OutFrameHeight);
            Source = Rect(slot, SharedLayout.OutSourceRect);
            Target = Rect(slot, SharedLayout.OutTargetRect);
            for (int i = 0; i < 5; i++)
            {
                Top5Index[i] = Fields.I32(slot, SharedLayout.OutTop5 + 8 * i);
                Top5Probability[i] = Fields.F32(slot, SharedLayout.OutTop5 + 8 * i + 4);
            }
            Label = LabelOf(slot, generation);
            DiagnosticsCount = Math.Min(Fields.I32(slot, SharedLayout.OutDiagnosticsCount), SharedLayout.DiagnosticsCapacity);
            for (int i = 0; i < DiagnosticsCount; i++)
            {
                byte* entry = slot + SharedLayout.OutDiagnostics + 32 * i;
                var cache = _nameBytes[i] ??= new byte[SharedLayout.DiagnosticNameBytes + 1];
                int length = 0;
                while (length < SharedLayout.DiagnosticNameBytes && entry[length] != 0) length++;
                int cachedLength = cache[SharedLayout.DiagnosticNameBytes];
                if (DiagnosticNames[i] is null || !Same(entry, length, cache, cachedLength))
                {
                    DiagnosticNames[i] = Encoding.UTF8.GetString(entry, length);
                    Marshal.Copy((IntPtr)entry, cache, 0, length);
                    cache[SharedLayout.DiagnosticNameBytes] = (byte)length;
                }
                DiagnosticValues[i] = Fields.F64(entry, SharedLayout.DiagnosticNameBytes);
            }
            ReadObjects(slot);
            Error = Status == 0 ? "" : Fields.Text(slot, SharedLayout.OutErrorLength, SharedLayout.OutError, SharedLayout.ErrorCapacity);

            byte* payload = slot + SharedLayout.OutputHeaderBytes;
            int mapBytes = Math.Max(0, MapWidth * MapHeight);
            if (Map.Length < mapBytes) Map = new byte[mapBytes];
            if (mapBytes > 0) Fields.Copy(payload, Map, mapBytes);
            OverlayBytes = Math.Max(0, Fields.I32(slot, SharedLayout.OutOverlayBytes));
            if (Overlay.Length < OverlayBytes) Overlay = new byte[OverlayBytes];
            if (OverlayBytes > 0) Fields.Copy(payload + mapBytes, Overlay, OverlayBytes);
        }

        private static SaCamObject[] NewObjects()
        {
            var objects = new SaCamObject[SharedLayout.ObjectCapacity];
            for (int i = 0; i < objects.Length; i++) objects[i] = new SaCamObject();
            return objects;
        }

        private unsafe void ReadObjects(byte* slot)
        {
            ObjectCount = Math.Max(0, Math.Min(Fields.I32(slot, SharedLayout.OutObjectCount), SharedLayout.ObjectCapacity));
            ObjectsFound = Math.Max(ObjectCount, Fields.I32(slot, SharedLayout.OutObjectsFound));
            for (int i = 0; i < ObjectCount; i++)
            {
                byte* entry = slot + SharedLayout.OutObjects + SharedLayout.ObjectBytes * i;
                var o = Objects[i];
                o.Track = Fields.I32(entry, SharedLayout.ObjTrack);
                o.ClassIndex = Fields.I32(entry, SharedLayout.ObjClass);
                o.Score = Fields.F32(entry, SharedLayout.ObjScore);
                o.BoxX = Fields.F32(entry, SharedLayout.ObjBox);
                o.BoxY = Fields.F32(entry, SharedLayout.ObjBox + 4);
                o.BoxWidth = Fields.F32(entry, SharedLayout.ObjBox + 8);
                o.BoxHeight = Fields.F32(entry, SharedLayout.ObjBox + 12);
                o.PeakX = Fields.F32(entry, SharedLayout.ObjPeak);
                o.PeakY = Fields.F32(entry, SharedLayout.ObjPeak + 4);
                o.EnergyInBox = Fields.F32(entry, SharedLayout.ObjEnergyInBox);
                o.ExplainMs = Fields.F32(entry, SharedLayout.ObjExplainMs);
                // A label is a few bytes and rarely changes for a track: a new string only when its text differs.
                int length = Math.Max(0, Math.Min(Fields.I32(entry, SharedLayout.ObjLabelLength), SharedLayout.ObjectLabelCapacity));
                if (!SameText(o.Label, entry + SharedLayout.ObjLabel, length)) o.Label = Encoding.UTF8.GetString(entry + SharedLayout.ObjLabel, length);
            }
        }

        private static unsafe bool SameText(string text, byte* bytes, int length)
        {
            if (text.Length != length) return false; // labels are ASCII in practice; any other text is simply re-read
            for (int i = 0; i < length; i++) if (bytes[i] >= 0x80 || text[i] != bytes[i]) return false;
            return true;
        }

        /// <summary>A class's label is the same on every frame of a session: kept per class index, so a class seen
        /// once costs no string again (the label of a class index the cache does not cover is compared byte-wise).</summary>
        private unsafe string LabelOf(byte* slot, long generation)
        {
            if (generation != _labelsGeneration)
            {
                Array.Clear(_labels, 0, _labels.Length);
                _labelsGeneration = generation;
            }
            int length = Fields.I32(slot, SharedLayout.OutLabelLength);
            if (ClassIndex >= 0 && ClassIndex < _labels.Length)
                return _labels[ClassIndex] ??= Encoding.UTF8.GetString(slot + SharedLayout.OutLabel, Math.Max(0, Math.Min(length, SharedLayout.LabelCapacity)));
            return CachedText(slot + SharedLayout.OutLabel, length, _labelBytes, ref _labelLength, Label);
        }

        private static unsafe NormalizedRect Rect(byte* slot, int offset) => new NormalizedRect
        {
            X = Fields.F32(slot, offset), Y = Fields.F32(slot, offset + 4), Width = Fields.F32(slot, offset + 8), Height = Fields.F32(slot, offset + 12),
        };

        private static unsafe string CachedText(byte* text, int length, byte[] cache, ref int cachedLength, string current)
        {
            length = Math.Max(0, Math.Min(length, cache.Length));
            if (length == cachedLength && Same(text, length, cache, cachedLength)) return current;
            Marshal.Copy((IntPtr)text, cache, 0, length);
            cachedLength = length;
            return Encoding.UTF8.GetString(text, length);
        }

        private static unsafe bool Same(byte* text, int length, byte[] cache, int cachedLength)
        {
            if (length != cachedLength) return false;
            for (int i = 0; i < length; i++)
                if (text[i] != cache[i]) return false;
            return true;
        }
    }
}
