#nullable enable
using SaCam.Unity;
using UnityEngine;

namespace SaCam.Unity.Samples
{
    /// <summary>
    /// Put on a quad next to a SaCamOverlay: logs what the model sees once a second, with the explainer's latency.
    /// The overlay itself appears on the quad (SaCamOverlay.display).
    /// </summary>
    public sealed class WebcamOverlayDemo : MonoBehaviour
    {
        public SaCamOverlay? overlay;
        private float _nextLog;

        private void Update()
        {
            if (overlay == null || overlay.Latest == null || Time.time < _nextLog) return;
            _nextLog = Time.time + 1f;
            var r = overlay.Latest;
            Debug.Log($"SaCam: {r.Label} {r.Score:F2}, latency {r.LatencyMs:F0} ms, {overlay.OverlaysShown} overlays shown");
        }
    }
}
