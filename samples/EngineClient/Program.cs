// An engine's side of `sacam serve`, as a program: it starts the server, decodes a video with the ffmpeg program
// (so that it needs nothing but the client), and runs a frame loop at a fixed rate that hands each newest frame
// over and reads each newest result, never waiting. One JSON line per result received. It runs under .NET 10
// (dotnet run --project samples/EngineClient) and under Mono, compiled as C# 9 against Mono's assemblies
// (build/engine-client-mono.sh): the same code path a Unity game takes.
//   EngineClient --server PATH_TO_SACAM --model M --source VIDEO --frames N --jsonl OUT
//                [--method M] [--target T] [--shm-dir DIR] [--size WxH] [--transport shm|tcp] [--rate 120] [--bottom-up]
//                [--max-seconds 300] [--summary FILE]
// The video plays as a camera would (at its own frame rate, newest frame wins), from the moment the server is ready
// (a camera a game opens before the model has loaded shows nothing worth explaining), and plays again from the start
// until N results have arrived: --frames N is a count of results, whatever the machine's speed. --loop, which asked
// for that replay, is still accepted.
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using SaCam.Client;

namespace SaCam.Samples.EngineClient
{
    public static class Program
    {
        public static int Main(string[] args)
        {
            try
            {
                return Run(new Arguments(args));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("EngineClient: " + e.Message);
                return 2;
            }
        }

        private static int Run(Arguments a)
        {
            var (width, height) = a.Size ?? VideoFrames.Probe(a.Source);
            var options = new SaCamClientOptions
            {
                ServerPath = a.Server,
                ServerArguments = a.Target == null
                    ? new[] { "--model", a.Model, "--method", a.Method }
                    : new[] { "--model", a.Model, "--method", a.Method, "--target", a.Target },
                MaxWidth = width,
                MaxHeight = height,
                Transport = a.Transport,
                IdleExitSeconds = 30,
                SharedMemoryDirectory = a.ShmDir,
            };
            using var client = new SaCamClient(options);
            using var frames = new VideoFrames(a.Source, width, height, scaled: a.Size != null);
            using var output = new StreamWriter(a.Jsonl, false, new UTF8Encoding(false));
            var result = new SaCamResult();
            var callTimes = new List<double>(a.Frames * 4);
            var sourceOf = new long[4096];
            var submittedAt = new long[4096];
            var loop = Stopwatch.StartNew();
            var period = TimeSpan.FromSeconds(1.0 / a.Rate);
            var allocated = AllocatedBytes();
            long callAllocations = 0, measuredCalls = 0;
            int received = 0, submitted = 0, readyCalls = 0;
            string? failure = null;
            var flags = a.BottomUp ? FrameFlags.BottomUp : FrameFlags.None;
            client.Start();
            while (received < a.Frames && loop.Elapsed.TotalSeconds < a.MaxSeconds)
            {
                var tickStart = loop.Elapsed;
                // The video starts once the server can explain it: a clip played while the model loads would be over
                // before the first frame could be explained.
                if (!frames.Started && client.State == ClientState.Ready) frames.Start();
                if (client.State == ClientState.Failed) break;
                if (frames.Finished)
                {
                    failure = "ffmpeg stopped decoding --source '" + a.Source + "' after " + frames.Decoded + " frames";
                    break;
                }
                byte[]? frame = frames.Newest(a.BottomUp, out long sourceIndex);
                long before = allocated?.Invoke() ?? 0;
                long callStart = Stopwatch.GetTimestamp();
                // The two calls a game makes every frame: neither may wait.
                if (frame != null && client.TrySubmit(frame, width, height, flags)) submitted++;
                else frame = null;
                bool got = client.TryGetLatest(result);
                double callMs = (Stopwatch.GetTimestamp() - callStart) * 1000.0 / Stopwatch.Frequency;
                long after = allocated?.Invoke() ?? 0;
                callTimes.Add(callMs);
                if (client.State == ClientState.Ready) readyCalls++;
                // The client numbers frames 1, 2, ... as it accepts them: remember which video frame each number carried.
                if (frame != null)
                {
                    sourceOf[client.Stats.Submitted % sourceOf.Length] = sourceIndex;
                    submittedAt[client.Stats.Submitted % submittedAt.Length] = callStart;
                }
                // Allocations of the two calls alone, once running (after the first results: the first map array is made then).
                if (received >= 5 && allocated != null)
                {
                    callAllocations += after - before;
                    measuredCalls++;
                }
                if (got)
                {
                    received++;
                    double e2e = (Stopwatch.GetTimestamp() - submittedAt[result.FrameId % submittedAt.Length]) * 1000.0 / Stopwatch.Frequency;
                    output.WriteLine(Line(result, client.State, sourceOf[result.FrameId % sourceOf.Length], loop.Elapsed.TotalSeconds, e2e));
                    output.Flush(); // a line per result as it comes, for tools that follow the file
                }
                Pace(period - (loop.Elapsed - tickStart));
            }
            output.Flush();
            bool settled = Settle(client, result, period);
            callTimes.Sort();
            double p99 = callTimes.Count == 0 ? 0 : callTimes[(int)Math.Floor(0.99 * (callTimes.Count - 1))];
            double max = callTimes.Count == 0 ? 0 : callTimes[callTimes.Count - 1];
            string summary = string.Format(CultureInfo.InvariantCulture,
                "{{\"runtime\":\"{0}\",\"state\":\"{1}\",\"received\":{2},\"submitted\":{3},\"dropped_before_server\":{4},\"server_dropped\":{5},\"calls\":{6},\"call_p99_ms\":{7:F3},\"call_max_ms\":{8:F3},\"allocated_bytes_in_calls\":{9},\"error\":\"{10}\",\"server_received\":{11},\"server_explained\":{12},\"settled\":{13},\"calls_ready\":{14}}}",
                Type.GetType("Mono.Runtime") != null ? "mono" : ".net", client.State, received, submitted, client.Stats.DroppedBeforeServer,
                client.Stats.ServerDropped, callTimes.Count, p99, max,
                allocated != null && measuredCalls > 0 ? callAllocations.ToString(CultureInfo.InvariantCulture) : "null",
                Escape(failure ?? client.LastError), client.Stats.ServerReceived, client.Stats.ServerExplained, settled ? "true" : "false", readyCalls);
            Console.WriteLine(summary);
            if (a.Summary != null) File.WriteAllText(a.Summary, summary);
            if (received < a.Frames)
                Console.Error.WriteLine("EngineClient: " + received + " of " + a.Frames + " results in " + a.MaxSeconds + " s (--max-seconds): "
                    + (failure ?? (client.LastError.Length > 0 ? client.LastError : "the server is " + client.State.ToString().ToLowerInvariant())));
            return received >= a.Frames ? 0 : 1;
        }

        /// <summary>How long the counters may take to settle after the last result: the server reports them once a
        /// second, after the frame it is explaining, which a busy machine can make slow.</summary>
        private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(30);

        /// <summary>
        /// With no more frames handed over, waits until the server's counters account for every frame submitted (each
        /// one taken by the server or replaced by a newer one before it could), so that the summary's counts add up.
        /// Results that arrive meanwhile are read and not written. False when they did not settle in time.
        /// </summary>
        private static bool Settle(SaCamClient client, SaCamResult result, TimeSpan period)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < SettleLimit && client.State == ClientState.Ready)
            {
                var stats = client.Stats;
                if (stats.ServerReceived + stats.DroppedBeforeServer >= stats.Submitted) return true;
                client.TryGetLatest(result);
                Pace(period);
            }
            return false;
        }

        private static void Pace(TimeSpan rest)
        {
            if (rest > TimeSpan.Zero) Thread.Sleep(rest);
        }

        /// <summary>Bytes this thread has allocated so far, as a delegate made once (null where the runtime cannot say).</summary>
        private static Func<long>? AllocatedBytes()
        {
            var method = typeof(GC).GetMethod("GetAllocatedBytesForCurrentThread", Type.EmptyTypes);
            return method == null ? null : (Func<long>)Delegate.CreateDelegate(typeof(Func<long>), method);
        }

        private static string Line(SaCamResult r, ClientState state, long sourceFrame, double receivedSeconds, double e2eMs)
        {
            r.TryGetPeak(out float x, out float y);
            return string.Format(CultureInfo.InvariantCulture,
                "{{\"source_frame\":{14},\"frame\":{0},\"generation\":{1},\"class\":{2},\"label\":\"{3}\",\"score\":{4:F4},\"peak_x\":{5:F4},\"peak_y\":{6:F4},\"map\":\"{7}x{8}\",\"frame_size\":\"{9}x{10}\",\"latency_ms\":{11:F1},\"explain_ms\":{15:F1},\"e2e_ms\":{16:F1},\"received_s\":{17:F3},\"state\":\"{12}\",\"status\":{13}}}",
                r.FrameId, r.Generation, r.ClassIndex, Escape(r.Label), r.Score, x, y, r.MapWidth, r.MapHeight, r.FrameWidth, r.FrameHeight, r.LatencyMs, state, r.Status, sourceFrame, r.ExplainMs, e2eMs, receivedSeconds);
        }

        private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\"", "\\\"");
    }

    /// <summary>The command line, with errors that name the flag.</summary>
    internal sealed class Arguments
    {
        public readonly string Server, Model, Source, Jsonl, Method;
        public readonly string? Summary, Target, ShmDir;
        public readonly int Frames, Rate;
        public readonly double MaxSeconds;
        public readonly bool BottomUp;
        public readonly (int Width, int Height)? Size;
        public readonly Transport Transport;

        public Arguments(string[] args)
        {
            string? Value(string name)
            {
                int i = Array.IndexOf(args, name);
                return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
            }
            string Required(string name) => Value(name) ?? throw new ArgumentException(name + " is required (usage: --server PATH_TO_SACAM --model M --source VIDEO --frames N --jsonl OUT)");
            Server = Required("--server");
            Model = Value("--model") ?? "default";
            Method = Value("--method") ?? "sacam-rt";
            Source = Required("--source");
            Jsonl = Required("--jsonl");
            Summary = Value("--summary");
            Target = Value("--target");
            ShmDir = Value("--shm-dir");
            Frames = Number("--frames", Value("--frames") ?? "30");
            Rate = Number("--rate", Value("--rate") ?? "120");
            MaxSeconds = Number("--max-seconds", Value("--max-seconds") ?? "300");
            BottomUp = Array.IndexOf(args, "--bottom-up") >= 0;
            if (Value("--size") is string size)
            {
                var parts = size.Split('x');
                if (parts.Length != 2) throw new ArgumentException("--size '" + size + "': use WIDTHxHEIGHT, e.g. 1920x1080");
                Size = (Number("--size", parts[0]), Number("--size", parts[1]));
            }
            Transport = (Value("--transport") ?? "shm") switch
            {
                "shm" => Transport.SharedMemory,
                "tcp" => Transport.Tcp,
                var other => throw new ArgumentException("--transport '" + other + "': use shm or tcp"),
            };
            if (!File.Exists(Source)) throw new ArgumentException("--source '" + Source + "' does not exist");
        }

        private static int Number(string name, string text) =>
            int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException(name + " must be a positive whole number (got '" + text + "')");
    }

    /// <summary>
    /// Frames of a video as RGBA rows (top row first), decoded by the ffmpeg program on a thread of their own from
    /// <see cref="Start"/> on, at the video's own rate and from the start again at its end (as a camera keeps
    /// delivering); the frame loop takes the newest one decoded, as a game takes its newest camera image, and never
    /// waits for one.
    /// </summary>
    internal sealed class VideoFrames : IDisposable
    {
        private readonly string _arguments;
        private Process? _ffmpeg;
        private readonly object _gate = new object();
        private readonly int _bytes, _rowBytes;
        private byte[]? _newest;
        private long _newestIndex = -1, _decoded;
        private readonly byte[] _flipped;
        private volatile bool _finished;

        public VideoFrames(string path, int width, int height, bool scaled)
        {
            _rowBytes = width * 4;
            _bytes = _rowBytes * height;
            _flipped = new byte[_bytes];
            // Scaled (a benchmark at 720p or 1080p): also at 60 fps, faster than any explainer here, so results are
            // limited by the explainer, not by the clip's own rate.
            string filter = scaled ? " -vf scale=" + width + ":" + height + ",fps=60" : "";
            _arguments = "-v error -re -stream_loop -1 -i \"" + path + "\"" + filter + " -f rawvideo -pix_fmt rgba -";
        }

        public bool Started => _ffmpeg != null;

        /// <summary>True once ffmpeg stopped delivering frames (it cannot read the file, or it was killed).</summary>
        public bool Finished => _finished;

        /// <summary>Frames decoded so far; indices run on across the replays (frame i of the clip is i modulo its length).</summary>
        public long Decoded => Interlocked.Read(ref _decoded);

        /// <summary>Starts decoding; the first frame comes after ffmpeg's start, paced from then on.</summary>
        public void Start()
        {
            if (_ffmpeg != null) return;
            _ffmpeg = Launch("ffmpeg", _arguments);
            var stream = _ffmpeg.StandardOutput.BaseStream;
            new Thread(() => Read(stream)) { IsBackground = true, Name = "ffmpeg-frames" }.Start();
        }

        public static (int Width, int Height) Probe(string path)
        {
            using var probe = Launch("ffprobe", "-v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x \"" + path + "\"");
            var text = probe.StandardOutput.ReadToEnd().Trim();
            probe.WaitForExit();
            var parts = text.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int w) || !int.TryParse(parts[1], out int h))
                throw new ArgumentException("ffprobe cannot read the size of '" + path + "' (" + text + ")");
            return (w, h);
        }

        /// <summary>The newest frame decoded since the last call, or null; with <paramref name="bottomUp"/> its rows
        /// reversed (as a Unity texture stores them).</summary>
        public byte[]? Newest(bool bottomUp, out long index)
        {
            byte[]? frame;
            lock (_gate)
            {
                frame = _newest;
                _newest = null;
                index = _newestIndex;
            }
            if (frame == null || !bottomUp) return frame;
            int height = _bytes / _rowBytes;
            for (int y = 0; y < height; y++) Buffer.BlockCopy(frame, y * _rowBytes, _flipped, (height - 1 - y) * _rowBytes, _rowBytes);
            return _flipped;
        }

        private void Read(Stream stream)
        {
            while (true)
            {
                var frame = new byte[_bytes];
                int done = 0;
                while (done < _bytes)
                {
                    int read = stream.Read(frame, done, _bytes - done);
                    if (read <= 0)
                    {
                        _finished = true;
                        return;
                    }
                    done += read;
                }
                lock (_gate)
                {
                    _newest = frame;
                    _newestIndex = Interlocked.Increment(ref _decoded) - 1;
                }
            }
        }

        private static Process Launch(string program, string arguments) =>
            Process.Start(new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardOutput = true, CreateNoWindow = true })
            ?? throw new ArgumentException(program + " cannot be started: install ffmpeg");

        public void Dispose()
        {
            if (_ffmpeg == null) return;
            try { if (!_ffmpeg.HasExited) _ffmpeg.Kill(); } catch (InvalidOperationException) { }
            _ffmpeg.Dispose();
        }
    }
}
