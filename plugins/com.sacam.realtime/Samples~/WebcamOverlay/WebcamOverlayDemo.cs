#nullable enable
using SaCam.Unity;
using UnityEngine;

namespace SaCam.Unity.Samples
{
    /// <summary>
    /// Put next to a SaCamOverlay whose display is a quad with the SaCam/Overlay material: logs what the overlay is
    /// doing (loading, ready, reconnecting, failed) when it changes, and what the model sees once a second.
    /// </summary>
    public sealed class WebcamOverlayDemo : MonoBehaviour
    {
        public SaCamOverlay? overlay;
        private float _nextLog;
        private string _lastStatus = "";

        private void Update()
        {
            if (overlay == null) return;
            string status = overlay.StatusText;
            if (status != _lastStatus && !status.StartsWith("loading"))
            {
                _lastStatus = status;
                Debug.Log("SaCam: " + status);
            }
            if (!overlay.HasResult || Time.time < _nextLog) return;
            _nextLog = Time.time + 1f;
            var r = overlay.Latest;
            Debug.Log($"SaCam: {r.Label} {r.Score:F2}, latency {r.LatencyMs:F0} ms, {overlay.MapsShown} maps shown");
        }
    }
}
