// A stand-in for the UnityEngine types the package's scripts use, with Unity's signatures and, where the scripts rely
// on them, Unity's semantics: textures store rows bottom to top, Color32 is four bytes RGBA, a destroyed object
// compares equal to null, a material keeps the properties set on it. Only for compiling and driving those scripts in
// tests; not a Unity emulation.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace UnityEngine
{
    public class Object
    {
        internal bool Destroyed { get; private set; }

        public static void Destroy(Object? obj)
        {
            if (obj is not null) obj.Destroyed = true;
        }

        public static bool operator ==(Object? a, Object? b)
        {
            bool aNull = a is null || a.Destroyed, bNull = b is null || b.Destroyed;
            if (aNull || bNull) return aNull && bNull;
            return ReferenceEquals(a, b);
        }

        public static bool operator !=(Object? a, Object? b) => !(a == b);
        public override bool Equals(object? other) => other is Object o && this == o;
        public override int GetHashCode() => base.GetHashCode();
    }

    public class Component : Object { }

    public class Behaviour : Component
    {
        public bool enabled { get; set; } = true;
    }

    public class MonoBehaviour : Behaviour { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute(string tooltip) : Attribute
    {
        public string tooltip { get; } = tooltip;
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class RangeAttribute(float min, float max) : Attribute
    {
        public float min { get; } = min;
        public float max { get; } = max;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Color32(byte r, byte g, byte b, byte a)
    {
        public byte r = r, g = g, b = b, a = a;
    }

    public struct Vector4(float x, float y, float z, float w)
    {
        public float x = x, y = y, z = z, w = w;
    }

    public enum TextureFormat { RGBA32 = 4, R8 = 63 }
    public enum TextureWrapMode { Repeat = 0, Clamp = 1 }
    public enum FilterMode { Point = 0, Bilinear = 1, Trilinear = 2 }

    public class Texture : Object
    {
        public virtual int width { get; protected set; }
        public virtual int height { get; protected set; }
        public TextureWrapMode wrapMode { get; set; }
        public FilterMode filterMode { get; set; }

        /// <summary>Test hook: what a GPU read-back of this texture as RGBA32 gives (rows bottom to top), or null when
        /// the texture holds nothing readable as colour.</summary>
        internal virtual byte[]? GpuRgba32 => null;
    }

    /// <summary>The stand-in render target: a game camera renders into it (the test's <see cref="Render"/>); the
    /// CPU reaches its pixels only through <see cref="Rendering.AsyncGPUReadback"/>.</summary>
    public class RenderTexture : Texture
    {
        private byte[] _gpu;

        public RenderTexture(int width, int height, int depth)
        {
            this.width = width;
            this.height = height;
            _gpu = new byte[width * height * 4];
        }

        /// <summary>Test hook: a camera rendered this frame (Color32, rows bottom to top) into the texture.</summary>
        public void Render(Color32[] frame)
        {
            if (frame.Length != width * height) throw new ArgumentException($"a {width}x{height} render target takes {width * height} pixels, got {frame.Length}");
            MemoryMarshal.AsBytes(frame.AsSpan()).CopyTo(_gpu);
        }

        internal override byte[]? GpuRgba32 => _gpu;
    }

    public sealed class Texture2D : Texture
    {
        private byte[] _pending = [];

        public Texture2D(int width, int height, TextureFormat textureFormat, bool mipChain)
        {
            this.width = width;
            this.height = height;
            format = textureFormat;
            Pixels = new byte[width * height * BytesPerPixel];
        }

        public TextureFormat format { get; }
        private int BytesPerPixel => format == TextureFormat.R8 ? 1 : 4;

        /// <summary>Test hook: what the GPU would hold after Apply, rows in upload order (row 0 at v = 0, the bottom).</summary>
        public byte[] Pixels { get; private set; }
        public int Applies { get; private set; }

        public void LoadRawTextureData(byte[] data)
        {
            int need = width * height * BytesPerPixel;
            if (data.Length < need) throw new UnityException($"LoadRawTextureData: not enough data provided (will result in overread).");
            _pending = data[..need];
        }

        public void LoadRawTextureData(IntPtr data, int size)
        {
            int need = width * height * BytesPerPixel;
            if (size < need) throw new UnityException($"LoadRawTextureData: not enough data provided (will result in overread).");
            if (_pending.Length != need) _pending = new byte[need];
            Marshal.Copy(data, _pending, 0, need);
        }

        public void Apply(bool updateMipmaps)
        {
            if (Pixels.Length != _pending.Length) Pixels = new byte[_pending.Length];
            Buffer.BlockCopy(_pending, 0, Pixels, 0, _pending.Length);
            Applies++;
        }

        /// <summary>An RGBA32 texture reads back as it is; the stand-in converts no other format.</summary>
        internal override byte[]? GpuRgba32 => format == TextureFormat.RGBA32 ? Pixels : null;
    }

    /// <summary>The stand-in camera: frames come from the test, one per engine frame.</summary>
    public sealed class WebCamTexture : Texture
    {
        private Color32[] _frame = [];

        public bool isPlaying { get; private set; }
        public bool didUpdateThisFrame { get; private set; }

        public void Play() => isPlaying = true;
        public void Stop() => isPlaying = false;

        /// <summary>Test hook: a new camera frame (rows bottom to top, as Unity delivers them).</summary>
        public void Deliver(Color32[] frame, int frameWidth, int frameHeight)
        {
            _frame = frame;
            width = frameWidth;
            height = frameHeight;
            didUpdateThisFrame = true;
        }

        /// <summary>Test hook: the engine moved to a frame in which the camera had nothing new.</summary>
        public void NoNewFrame() => didUpdateThisFrame = false;

        public Color32[] GetPixels32(Color32[] colors)
        {
            Array.Copy(_frame, colors, _frame.Length);
            return colors;
        }
    }

    public static class Shader
    {
        private static readonly Dictionary<string, int> Ids = new();
        internal static readonly Dictionary<int, string> Names = new();

        public static int PropertyToID(string name)
        {
            lock (Ids)
            {
                if (!Ids.TryGetValue(name, out int id))
                {
                    Ids[name] = id = Ids.Count + 1;
                    Names[id] = name;
                }
                return id;
            }
        }
    }

    public class Material
    {
        // Typed stores: Unity's setters do not allocate, and neither may the stand-in's (tests count allocations).
        private readonly Dictionary<int, Texture> _textures = new();
        private readonly Dictionary<int, Vector4> _vectors = new();
        private readonly Dictionary<int, float> _floats = new();

        public Texture? mainTexture { get; set; }
        public void SetTexture(int nameID, Texture value) => _textures[nameID] = value;
        public void SetVector(int nameID, Vector4 value) => _vectors[nameID] = value;
        public void SetFloat(int nameID, float value) => _floats[nameID] = value;
        public Texture? GetTexture(int nameID) => _textures.TryGetValue(nameID, out var v) ? v : null;
        public Vector4 GetVector(int nameID) => _vectors.TryGetValue(nameID, out var v) ? v : default;
        public float GetFloat(int nameID) => _floats.TryGetValue(nameID, out var v) ? v : 0;
    }

    public class Renderer : Component
    {
        public Material material { get; set; } = new();
    }

    public static class SystemInfo
    {
        /// <summary>False on WebGL and OpenGL ES 2 devices; settable here for tests.</summary>
        public static bool supportsAsyncGPUReadback { get; set; } = true;
    }

    public static class Time
    {
        public static float time { get; set; }
    }

    public static class Mathf
    {
        public static int RoundToInt(float f) => (int)Math.Round(f);
    }

    public enum RuntimePlatform { OSXEditor = 0, OSXPlayer = 1, WindowsPlayer = 2, WindowsEditor = 7, LinuxPlayer = 13, LinuxEditor = 16 }

    public static class Application
    {
        public static bool isEditor { get; set; }
        /// <summary>PROJECT/Assets in the Editor, PLAYER_Data in a player.</summary>
        public static string dataPath { get; set; } = "/tmp/UnityProject/Assets";
        public static RuntimePlatform platform { get; set; } = RuntimePlatform.LinuxPlayer;
    }

    public static class Debug
    {
        public static List<string> Logged { get; } = [];
        public static void Log(object message) { lock (Logged) Logged.Add(message?.ToString() ?? ""); }
        public static void LogWarning(object message) { lock (Logged) Logged.Add("warning: " + message); }
        public static void LogError(object message) { lock (Logged) Logged.Add("error: " + message); }
    }

    public sealed class UnityException(string message) : Exception(message);
}

namespace UnityEngine.Rendering
{
    /// <summary>
    /// The stand-in GPU read-back: a request copies the texture's content when it is made (the GPU runs the copy in
    /// the frame's command stream) and its callback runs later, on the main thread, when the test calls
    /// <see cref="CompletePending"/> (Unity calls it in a later frame). Buffers are pooled, so that a steady stream of
    /// requests allocates nothing, as Unity's own do not on the managed heap.
    /// </summary>
    public static class AsyncGPUReadback
    {
        private static readonly Queue<Pending> Queue = new(8);
        private static readonly Stack<byte[]> Pool = new();

        private readonly struct Pending(byte[] data, int length, int width, int height, bool error, Action<AsyncGPUReadbackRequest>? callback)
        {
            public readonly byte[] Data = data;
            public readonly int Length = length, Width = width, Height = height;
            public readonly bool Error = error;
            public readonly Action<AsyncGPUReadbackRequest>? Callback = callback;
        }

        /// <summary>Requests landed but not yet delivered.</summary>
        public static int PendingCount { get { lock (Queue) return Queue.Count; } }

        public static AsyncGPUReadbackRequest Request(Texture src, int mipIndex, TextureFormat dstFormat, Action<AsyncGPUReadbackRequest>? callback = null)
        {
            var gpu = src.GpuRgba32;
            bool error = gpu is null || dstFormat != TextureFormat.RGBA32 || mipIndex != 0;
            int length = error ? 0 : gpu!.Length;
            byte[] data;
            lock (Queue) data = Pool.Count > 0 && Pool.Peek().Length >= length ? Pool.Pop() : new byte[length];
            if (!error) Buffer.BlockCopy(gpu!, 0, data, 0, length);
            lock (Queue) Queue.Enqueue(new Pending(data, length, src.width, src.height, error, callback));
            return new AsyncGPUReadbackRequest(data, length, src.width, src.height, error, done: false);
        }

        /// <summary>Test hook: the GPU finished every request made so far; their callbacks run now, in order.</summary>
        public static void CompletePending()
        {
            while (true)
            {
                Pending next;
                lock (Queue)
                {
                    if (Queue.Count == 0) return;
                    next = Queue.Dequeue();
                }
                next.Callback?.Invoke(new AsyncGPUReadbackRequest(next.Data, next.Length, next.Width, next.Height, next.Error, done: true));
                lock (Queue) Pool.Push(next.Data); // Unity frees a request's data once its callback returns
            }
        }
    }

    public readonly struct AsyncGPUReadbackRequest
    {
        private readonly byte[] _data;
        private readonly int _length;

        internal AsyncGPUReadbackRequest(byte[] data, int length, int width, int height, bool hasError, bool done)
        {
            _data = data;
            _length = length;
            this.width = width;
            this.height = height;
            this.hasError = hasError;
            this.done = done;
        }

        public bool done { get; }
        public bool hasError { get; }
        public int width { get; }
        public int height { get; }
        public int layerCount => 1;

        public Unity.Collections.NativeArray<T> GetData<T>(int layer = 0) where T : struct
        {
            if (!done || hasError) throw new InvalidOperationException("Cannot access the data as it is not available");
            if (typeof(T) != typeof(byte)) throw new NotSupportedException("the stand-in reads back bytes only");
            return new Unity.Collections.NativeArray<T>((T[])(object)_data, _length);
        }
    }
}

namespace Unity.Collections
{
    /// <summary>The stand-in NativeArray: a view of a managed buffer (Unity's lives in native memory).</summary>
    public readonly struct NativeArray<T> where T : struct
    {
        private readonly T[] _items;

        internal NativeArray(T[] items, int length)
        {
            _items = items;
            Length = length;
        }

        public int Length { get; }
        public T this[int index] => (uint)index < (uint)Length ? _items[index] : throw new IndexOutOfRangeException();

        /// <summary>Unity's CopyTo: the lengths must match.</summary>
        public void CopyTo(T[] array)
        {
            if (array.Length != Length) throw new ArgumentException($"source and destination length must be the same ({Length} and {array.Length})");
            Array.Copy(_items, array, Length);
        }
    }
}
