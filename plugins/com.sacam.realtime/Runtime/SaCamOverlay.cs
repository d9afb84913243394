#nullable enable
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using SaCam.Client;
using UnityEngine;
using UnityEngine.Rendering;

namespace SaCam.Unity
{
    /// <summary>
    /// Shows where the model looks, over a camera, without ever making the game wait. The explainer runs in a
    /// `sacam serve` process (started by the client on its own thread, or found running); each Update hands it the
    /// newest frame of <see cref="source"/> and, when a newer result has arrived, uploads the map (one byte a pixel,
    /// the model's input size) into <see cref="MapTexture"/> and the geometry into the display's material, whose
    /// SaCam/Overlay shader colours and blends it over the source on the GPU. The source is any texture: a webcam, or
    /// what a game camera sees (a RenderTexture it renders into), or a Texture2D; the last two are read back from the
    /// GPU with AsyncGPUReadback, one request in flight at a time, so Update never waits for the GPU either. Nothing
    /// is allocated per frame once running.
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
        [Tooltip("What to explain: a RenderTexture a game camera renders into, a Texture2D, or a WebCamTexture; empty: the default webcam")]
        public Texture? source;
        [Tooltip("Where to show the source with the map blended over it (a material with the SaCam/Overlay shader)")]
        public Renderer? display;
        [Range(0f, 1f)]
        public float opacity = 0.5f;

        private static readonly List<SaCamOverlay> Running = new List<SaCamOverlay>();

        private bool _ownsCamera;
        private Color32[] _pixels = new Color32[0];
        private GCHandle _pixelsPinned;
        private byte[] _readback = new byte[0];
        private bool _readbackPending, _stopped, _reportedNoReadback;
        private Action<AsyncGPUReadbackRequest>? _onReadback;
        private readonly SaCamMapTexture _map = new SaCamMapTexture();
        private readonly SaCamResult _latest = new SaCamResult();
        private bool _hasResult;
        private ClientState _reportedState = ClientState.Idle;

        /// <summary>The frames come from here (the same as <see cref="source"/>); set it before Start.</summary>
        public Texture? SourceTexture { get => source; set => source = value; }

        /// <summary>The source when it is a webcam; setting it sets <see cref="source"/> (kept for code written when only a
        /// webcam could be the source).</summary>
        public WebCamTexture? CameraTexture { get => source as WebCamTexture; set => source = value; }

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
            _stopped = false;
            _onReadback = OnReadback; // made once: a delegate per request would allocate every frame
            if (source == null)
            {
                var webcam = new WebCamTexture();
                webcam.Play();
                source = webcam;
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
            var texture = source;
            if (client == null || texture == null) return;
            if (client.State != _reportedState)
            {
                _reportedState = client.State;
                if (_reportedState == ClientState.Failed) Debug.LogError("SaCam: " + client.LastError);
            }
            if (texture is WebCamTexture camera)
            {
                if (camera.didUpdateThisFrame) SubmitCameraFrame(client, camera);
            }
            else if (client.State == ClientState.Ready) RequestReadback(texture);
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

        /// <summary>
        /// Any other texture lives on the GPU: ask for a copy as RGBA32, one request at a time (a newer frame is asked
        /// for once the last one arrived, so requests never pile up behind a slow GPU). Nothing is read back while no
        /// server is ready to take the frame.
        /// </summary>
        private void RequestReadback(Texture texture)
        {
            if (_readbackPending || _onReadback == null || texture.width <= 16 || texture.height <= 16) return;
            if (!SystemInfo.supportsAsyncGPUReadback)
            {
                if (!_reportedNoReadback) Debug.LogError("SaCam: this graphics API has no AsyncGPUReadback (WebGL, OpenGL ES 2): use a WebCamTexture source, or submit frames through Client yourself");
                _reportedNoReadback = true;
                return;
            }
            _readbackPending = true;
            AsyncGPUReadback.Request(texture, 0, TextureFormat.RGBA32, _onReadback);
        }

        /// <summary>The read-back arrived (on the main thread, a frame or more later): its rows run bottom to top, as
        /// every Unity texture's do, and the server turns them.</summary>
        private void OnReadback(AsyncGPUReadbackRequest request)
        {
            _readbackPending = false;
            var client = Client;
            if (_stopped || client == null) return;
            if (request.hasError)
            {
                if (!_reportedNoReadback) Debug.LogError("SaCam: the GPU read-back of " + (source != null ? source.ToString() : "the source") + " failed (is it a colour texture?)");
                _reportedNoReadback = true;
                return;
            }
            var data = request.GetData<byte>();
            if (_readback.Length != data.Length) _readback = new byte[data.Length];
            data.CopyTo(_readback);
            client.TrySubmit(_readback, request.width, request.height, FrameFlags.BottomUp);
        }

        private void ApplyToDisplay()
        {
            if (display == null || _map.Texture == null) return;
            var material = display.material;
            if (source != null) material.mainTexture = source;
            material.SetTexture(SaCamShaderIds.Map, _map.Texture);
            material.SetVector(SaCamShaderIds.Source, new Vector4(_latest.Source.X, _latest.Source.Y, _latest.Source.Width, _latest.Source.Height));
            material.SetVector(SaCamShaderIds.Target, new Vector4(_latest.Target.X, _latest.Target.Y, _latest.Target.Width, _latest.Target.Height));
            material.SetFloat(SaCamShaderIds.Opacity, _latest.Stale ? opacity * 0.4f : opacity);
        }

        /// <summary>Stops the client (within about 200 ms; a kept server stays up) and lets go of the camera.</summary>
        public void Stop()
        {
            _stopped = true; // a read-back still in flight is dropped when it lands
            lock (Running) Running.Remove(this);
            Client?.Dispose();
            if (_pixelsPinned.IsAllocated) _pixelsPinned.Free();
            if (_ownsCamera && source is WebCamTexture camera && camera.isPlaying) camera.Stop();
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
