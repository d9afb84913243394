#nullable enable
using System;
using System.Runtime.InteropServices;
using SaCam.Client;
using UnityEngine;

namespace SaCam.Unity
{
    /// <summary>
    /// The map of a result as an R8 texture, uploaded straight from the result's array (pinned once per array, so an
    /// upload allocates nothing). The texture is made again only when the map's size changes (another model).
    /// </summary>
    public sealed class SaCamMapTexture : IDisposable
    {
        private byte[]? _pinnedArray;
        private GCHandle _pinned;

        public Texture2D? Texture { get; private set; }

        /// <summary>Uploads the result's map; false when it has none.</summary>
        public bool Upload(SaCamResult result)
        {
            int width = result.MapWidth, height = result.MapHeight;
            if (width <= 0 || height <= 0 || result.Map.Length < width * height) return false;
            if (Texture == null || Texture.width != width || Texture.height != height)
            {
                if (Texture != null) UnityEngine.Object.Destroy(Texture);
                Texture = new Texture2D(width, height, TextureFormat.R8, false) { wrapMode = TextureWrapMode.Clamp, filterMode = FilterMode.Bilinear };
            }
            if (!ReferenceEquals(_pinnedArray, result.Map))
            {
                if (_pinned.IsAllocated) _pinned.Free();
                _pinnedArray = result.Map;
                _pinned = GCHandle.Alloc(result.Map, GCHandleType.Pinned);
            }
            Texture.LoadRawTextureData(_pinned.AddrOfPinnedObject(), width * height);
            Texture.Apply(false);
            return true;
        }

        public void Dispose()
        {
            if (_pinned.IsAllocated) _pinned.Free();
            _pinnedArray = null;
            if (Texture != null) UnityEngine.Object.Destroy(Texture);
            Texture = null;
        }
    }
}
