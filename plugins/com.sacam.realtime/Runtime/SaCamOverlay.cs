#nullable enable
using System;
using System.Runtime.InteropServices;
using SaCam.Video.Host;
using UnityEngine;

namespace SaCam.Unity
{
    /// <summary>
    /// Feeds camera frames to the SaCam explainer and shows its overlay, once a frame, without ever waiting for it:
    /// Update copies the newest camera frame into the host (Submit returns at once; frames the explainer cannot keep
    /// up with are dropped there) and, when a newer result has arrived, uploads its RGBA overlay into
    /// <see cref="Overlay"/>. The explainer runs on its own thread, so the game's frame rate does not depend on it.
    /// </summary>
    public sealed class SaCamOverlay : MonoBehaviour
    {
        [Tooltip("default (embedded ResNet18), a path to an .onnx CNN, or torchvision:ARCH")]
        public string model = "default";
        [Tooltip("sacam-rt, gradcam, gradcam++, xgradcam, layercam, scorecam, groupcam")]
        public string method = "sacam-rt";
        /// <summary>sacam-rt budget per frame in ms; 0 = automatic (1.5x the measured forward and backward).</summary>
        public float budgetMs = 0f;
        [Tooltip("cpu, cuda or cuda:N")]
        public string device = "cpu";
        [Tooltip("Where to show the overlay (its material's main texture); optional")]
        public Renderer? display;

        private WebCamTexture? _camera;
        private Color32[] _pixels = Array.Empty<Color32>();
        private byte[] _topDown = Array.Empty<byte>();
        private long _shownFrame = -1;

        /// <summary>The camera frames come from here; set it before Start to use another texture than the default webcam.</summary>
        public WebCamTexture? CameraTexture { get => _camera; set => _camera = value; }

        /// <summary>The explainer; set it before Start to share one or to configure it in code.</summary>
        public ExplainerHost? Host { get; set; }

        /// <summary>The newest overlay (RGBA32), or null until the first result.</summary>
        public Texture2D? Overlay { get; private set; }

        /// <summary>What the model said about the frame shown in <see cref="Overlay"/>.</summary>
        public HostResult? Latest { get; private set; }

        public long OverlaysShown { get; private set; }

        private void Start()
        {
            if (_camera == null)
            {
                _camera = new WebCamTexture();
                _camera.Play();
            }
            Host ??= SaCamHostFactory.Create(model, method, budgetMs, device);
        }

        private void Update()
        {
            if (Host == null || _camera == null) return;
            if (Host.Failure != null)
            {
                Debug.LogError($"SaCam explainer stopped: {Host.Failure.Message}");
                enabled = false;
                return;
            }
            if (_camera.didUpdateThisFrame) SubmitCameraFrame(Host, _camera);
            if (Host.TryGetLatest(out var result) && result != null && result.FrameId != _shownFrame) Show(result);
        }

        private void SubmitCameraFrame(ExplainerHost host, WebCamTexture camera)
        {
            int width = camera.width, height = camera.height;
            if (_pixels.Length != width * height)
            {
                _pixels = new Color32[width * height];
                _topDown = new byte[width * height * 4];
            }
            camera.GetPixels32(_pixels);
            RgbaRows.FlipVertically(MemoryMarshal.AsBytes(_pixels.AsSpan()), _topDown, width, height);
            host.Submit(_topDown, width, height);
        }

        private void Show(HostResult result)
        {
            if (Overlay == null || Overlay.width != result.Width || Overlay.height != result.Height)
            {
                if (Overlay != null) Destroy(Overlay);
                Overlay = new Texture2D(result.Width, result.Height, TextureFormat.RGBA32, false);
                if (display != null) display.material.mainTexture = Overlay;
            }
            var bottomUp = new byte[result.OverlayRgba.Length];
            RgbaRows.FlipVertically(result.OverlayRgba, bottomUp, result.Width, result.Height);
            Overlay.LoadRawTextureData(bottomUp);
            Overlay.Apply(false);
            _shownFrame = result.FrameId;
            Latest = result;
            OverlaysShown++;
        }

        private void OnDestroy()
        {
            Host?.Dispose();
            Host = null;
            if (_camera != null && _camera.isPlaying) _camera.Stop();
            if (Overlay != null) Destroy(Overlay);
        }
    }
}
