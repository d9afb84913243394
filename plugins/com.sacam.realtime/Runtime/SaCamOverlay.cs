#nullable enable
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using SaCam.Client;
using UnityEngine;

namespace SaCam.Unity
{
    /// <summary>
    /// Shows where the model looks, over a camera, without ever making the game wait. The explainer runs in a
    /// `sacam serve` process (started by the client on its own thread, or found running); each Update hands it the
    /// newest camera frame and, when a newer result has arrived, uploads the map (one byte a pixel, the model's input
    /// size) into <see cref="MapTexture"/> and the geometry into the display's material, whose SaCam/Overlay shader
    /// colours and blends it over the camera on the GPU. Nothing is allocated per frame once running.
    /// </summary>
    public sealed class SaCamOverlay : MonoBehaviour
    {
        [Tooltip("The sacam executable; empty: SACAM_SERVER, then sacam/ beside the player, then sacam on PATH")]
        public string serverPath = "";
        [Tooltip("default (embedded ResNet18 backbone), a path to an .onnx CNN, or torchvision:ARCH")]
        public string model = "default";
        [Tooltip("sacam-rt, gradcam, gradcam++, xgradcam, layercam, scorecam, groupcam, none")]
        public string method = "sacam-rt";
        [Tooltip("sacam-rt's time budget per frame in ms, or auto")]
        public string budgetMs = "auto";
        [Tooltip("Class to explain (index or label); empty: each frame's top-1")]
        public string targetClass = "";
        [Tooltip("cpu, cuda or cuda:N")]
        public string device = "cpu";
        [Tooltip("In the Editor, keep the server (and its loaded model) across Play sessions")]
        public bool keepServerAliveInEditor = true;
        [Tooltip("Where to show the camera with the map blended over it (a material with the SaCam/Overlay shader)")]
        public Renderer? display;
        [Range(0f, 1f)]
        public float opacity = 0.5f;

        private static readonly List<SaCamOverlay> Running = new List<SaCamOverlay>();

        private WebCamTexture? _camera;
        private bool _ownsCamera;
        private Color32[] _pixels = new Color32[0];
        private GCHandle _pixelsPinned;
        private readonly SaCamMapTexture _map = new SaCamMapTexture();
        private readonly SaCamResult _latest = new SaCamResult();
        private bool _hasResult;
        private ClientState _reportedState = ClientState.Idle;

        /// <summary>The camera frames come from here; set it before Start to use another texture than the default webcam.</summary>
        public WebCamTexture? CameraTexture { get => _camera; set => _camera = value; }

        /// <summary>The client, from Start on; set one before Start to configure it in code (see <see cref="ClientOptions"/>).
        /// Either way the component stops it with itself: a client thread must not outlive a script reload.</summary>
        public SaCamClient? Client { get; set; }

        /// <summary>What the overlay is doing, for a status line: starting, loading, ready, reconnecting, failed.</summary>
        public ClientState State => Client?.State ?? ClientState.Idle;

        /// <summary>The state in words, with the load's progress or the failure's reason.</summary>
        public string StatusText
        {
            get
            {
                var client = Client;
                if (client == null) return "not started";
                switch (client.State)
                {
                    case ClientState.Loading: return "loading the model (" + Mathf.RoundToInt(client.LoadingProgress * 100) + " %)";
                    case ClientState.Failed: return "failed: " + client.LastError;
                    case ClientState.Reconnecting: return _hasResult ? "reconnecting (map is stale)" : "reconnecting";
                    default: return client.State.ToString().ToLowerInvariant();
                }
            }
        }

        /// <summary>The newest result (class, label, score, top-5, geometry, diagnostics); valid once <see cref="HasResult"/>.</summary>
        public SaCamResult Latest => _latest;
        public bool HasResult => _hasResult;

        /// <summary>The newest map as an R8 texture, rows as the protocol sends them (top row first: sample it at
        /// the map's top-left-origin coordinates, as the shader does).</summary>
        public Texture2D? MapTexture => _map.Texture;

        public long MapsShown { get; private set; }

        private void Start()
        {
            if (_camera == null)
            {
                _camera = new WebCamTexture();
                _camera.Play();
                _ownsCamera = true;
            }
            if (Client == null) Client = new SaCamClient(ClientOptions());
            Client.Start(); // returns at once: the server starts and the model loads on the client's thread
            lock (Running) Running.Add(this);
        }

        /// <summary>The options this component gives its client: the server found, the model and method asked for,
        /// and in the Editor a server kept across Play sessions (found again through a file in Library/).</summary>
        public SaCamClientOptions ClientOptions()
        {
            var arguments = new List<string> { "--model", model, "--method", method, "--budget-ms", budgetMs, "--device", device };
            if (targetClass.Length > 0)
            {
                arguments.Add("--class");
                arguments.Add(targetClass);
            }
            bool keep = keepServerAliveInEditor && Application.isEditor;
            return new SaCamClientOptions
            {
                ServerPath = SaCamServerLocator.Find(serverPath),
                ServerArguments = arguments.ToArray(),
                KeepServerAlive = keep,
                ServerStateFile = keep ? SaCamServerLocator.EditorStateFile(string.Join(" ", arguments)) : null,
            };
        }

        private void Update()
        {
            var client = Client;
            if (client == null || _camera == null) return;
            if (client.State != _reportedState)
            {
                _reportedState = client.State;
                if (_reportedState == ClientState.Failed) Debug.LogError("SaCam: " + client.LastError);
            }
            if (_camera.didUpdateThisFrame) SubmitCameraFrame(client, _camera);
            if (client.TryGetLatest(_latest))
            {
                _hasResult = true;
                if (_latest.Status == 0 && _map.Upload(_latest))
                {
                    MapsShown++;
                    ApplyToDisplay();
                }
            }
        }

        /// <summary>Unity's camera rows run bottom to top: say so, and the server turns them (no copy here).</summary>
        private void SubmitCameraFrame(SaCamClient client, WebCamTexture camera)
        {
            int width = camera.width, height = camera.height;
            if (width <= 16 || height <= 16) return; // a webcam reports 16x16 until its first real frame
            if (_pixels.Length != width * height)
            {
                if (_pixelsPinned.IsAllocated) _pixelsPinned.Free();
                _pixels = new Color32[width * height];
                _pixelsPinned = GCHandle.Alloc(_pixels, GCHandleType.Pinned);
            }
            camera.GetPixels32(_pixels);
            client.TrySubmit(_pixelsPinned.AddrOfPinnedObject(), _pixels.Length * 4, width, height, FrameFlags.BottomUp);
        }

        private void ApplyToDisplay()
        {
            if (display == null || _map.Texture == null) return;
            var material = display.material;
            if (_camera != null) material.mainTexture = _camera;
            material.SetTexture(SaCamShaderIds.Map, _map.Texture);
            material.SetVector(SaCamShaderIds.Source, new Vector4(_latest.Source.X, _latest.Source.Y, _latest.Source.Width, _latest.Source.Height));
            material.SetVector(SaCamShaderIds.Target, new Vector4(_latest.Target.X, _latest.Target.Y, _latest.Target.Width, _latest.Target.Height));
            material.SetFloat(SaCamShaderIds.Opacity, _latest.Stale ? opacity * 0.4f : opacity);
        }

        /// <summary>Stops the client (within about 200 ms; a kept server stays up) and lets go of the camera.</summary>
        public void Stop()
        {
            lock (Running) Running.Remove(this);
            Client?.Dispose();
            if (_pixelsPinned.IsAllocated) _pixelsPinned.Free();
            if (_ownsCamera && _camera != null && _camera.isPlaying) _camera.Stop();
        }

        /// <summary>Stops every running overlay: the Editor calls it before a script reload, so that no client thread
        /// outlives the assemblies it runs in.</summary>
        public static void StopAll()
        {
            SaCamOverlay[] running;
            lock (Running) running = Running.ToArray();
            foreach (var overlay in running) overlay.Stop();
        }

        private void OnDisable() => Stop();

        private void OnDestroy()
        {
            Stop();
            _map.Dispose();
        }
    }

    /// <summary>The SaCam/Overlay shader's property names, looked up once.</summary>
    public static class SaCamShaderIds
    {
        public static readonly int Map = Shader.PropertyToID("_SaCamMap");
        public static readonly int Source = Shader.PropertyToID("_SaCamSource");
        public static readonly int Target = Shader.PropertyToID("_SaCamTarget");
        public static readonly int Opacity = Shader.PropertyToID("_Opacity");
    }
}
