// A minimal stand-in for the few UnityEngine types the package's scripts use, with Unity's semantics where the
// scripts rely on them (textures store rows bottom to top, Color32 is four bytes RGBA, a destroyed object compares
// equal to null). Only for compiling and driving those scripts in tests; not a Unity emulation.
#nullable enable
using System;
using System.Collections.Generic;

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

    public sealed class TooltipAttribute(string tooltip) : Attribute
    {
        public string tooltip { get; } = tooltip;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    public struct Color32(byte r, byte g, byte b, byte a)
    {
        public byte r = r, g = g, b = b, a = a;
    }

    public enum TextureFormat { RGBA32 = 4 }

    public class Texture : Object
    {
        public virtual int width { get; protected set; }
        public virtual int height { get; protected set; }
    }

    public sealed class Texture2D : Texture
    {
        private byte[] _pending = [];

        public Texture2D(int width, int height, TextureFormat format, bool mipChain)
        {
            this.width = width;
            this.height = height;
            Format = format;
            Pixels = new byte[width * height * 4];
        }

        public TextureFormat Format { get; }

        /// <summary>What the GPU would hold after Apply, rows bottom to top.</summary>
        public byte[] Pixels { get; private set; }
        public int Applies { get; private set; }

        public void LoadRawTextureData(byte[] data)
        {
            if (data.Length != width * height * 4) throw new UnityException($"LoadRawTextureData: not enough data provided (got {data.Length}, need {width * height * 4})");
            _pending = data;
        }

        public void Apply(bool updateMipmaps)
        {
            Pixels = (byte[])_pending.Clone();
            Applies++;
        }
    }

    /// <summary>The stand-in camera: frames come from a delegate the test sets, one per engine frame.</summary>
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

    public class Material
    {
        public Texture? mainTexture { get; set; }
    }

    public class Renderer : Component
    {
        public Material material { get; set; } = new();
    }

    public static class Time
    {
        public static float time { get; set; }
    }

    public static class Debug
    {
        public static List<string> Logged { get; } = [];
        public static void Log(object message) => Logged.Add(message?.ToString() ?? "");
        public static void LogError(object message) => Logged.Add("error: " + message);
    }

    public sealed class UnityException(string message) : Exception(message);
}
