using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SaCam.Core.Models;
using SaCam.Core.Preprocessing;

namespace SaCam.Core.Tasks;

/// <summary>What a model's output means.</summary>
public enum ModelTask { Classification, Segmentation, Detection, Regression }

/// <summary>How a detector's raw outputs become boxes and class scores.</summary>
public enum DetectionFormat
{
    /// <summary>SSD: box encodings (ty, tx, th, tw) against anchors (ycenter, xcenter, h, w), scaled by the box
    /// scales, as TensorFlow's object detection API writes them.</summary>
    Ssd,
    /// <summary>Ultralytics YOLOv8 and later: one output [N, 4 + C, A]: cx, cy, w, h in input pixels, then C class
    /// scores (already activated).</summary>
    Yolov8,
    /// <summary>YOLOv5: one output [N, A, 5 + C]: cx, cy, w, h in input pixels, objectness, then C class scores;
    /// a candidate's score for a class is objectness x class score.</summary>
    Yolov5,
}

public enum ScoreActivation { None, Sigmoid, Softmax }

/// <summary>A detector's decoding (see docs/model-cards.md).</summary>
public sealed record DetectionCard
{
    public DetectionFormat Format { get; init; } = DetectionFormat.Ssd;
    /// <summary>SSD: the box-encoding output; YOLO: the one output.</summary>
    public string? Boxes { get; init; }
    /// <summary>SSD: the class-score output [N, A, C].</summary>
    public string? Scores { get; init; }
    /// <summary>SSD: the anchors output [A, 4] (ycenter, xcenter, h, w; 0..1), or <see cref="AnchorsFile"/>.</summary>
    public string? Anchors { get; init; }
    /// <summary>SSD: anchors as a float32 .npy [A, 4], relative to the card's folder.</summary>
    public string? AnchorsFile { get; init; }
    /// <summary>SSD: y, x, h, w scales of the encodings (TensorFlow's default 10, 10, 5, 5).</summary>
    public float[] BoxScales { get; init; } = [10, 10, 5, 5];
    /// <summary>The score column that is "no object", left out of detections (null: none).</summary>
    public int? BackgroundClass { get; init; }
    public ScoreActivation ScoreActivation { get; init; } = ScoreActivation.None;
    public float ScoreThreshold { get; init; } = 0.25f;
    public float NmsIou { get; init; } = 0.5f;
    public int MaxDetections { get; init; } = 100;
}

/// <summary>
/// What a model's outputs mean: its task, the outputs to read, labels, preprocessing and, for a detector, how its
/// outputs decode. From <c>--model-card FILE</c> (JSON, <see cref="Read"/>), else the model's metadata
/// (<see cref="FromMetadata"/>), else a classifier. Each field records where it came from, for
/// <c>sacam models inspect</c>.
/// </summary>
public sealed record ModelCard
{
    public ModelTask Task { get; init; } = ModelTask.Classification;
    /// <summary>The output a classifier, segmenter or regressor is read from (default: the graph's first).</summary>
    public string? Output { get; init; }
    /// <summary>Labels, one per output class (score column for a detector, channel for a segmenter).</summary>
    public string[]? Labels { get; init; }
    /// <summary>A labels file (one per line), relative to the card's folder; <see cref="Labels"/> wins.</summary>
    public string? LabelsFile { get; init; }
    /// <summary>The first N classes have no label (a detector's background column).</summary>
    public int LabelOffset { get; init; }
    public CardPreprocess? Preprocess { get; init; }
    public string? TargetLayer { get; init; }
    public DetectionCard? Detection { get; init; }

    /// <summary>Where the card came from: "--model-card FILE", "metadata", "default".</summary>
    [JsonIgnore] public string Source { get; init; } = "default";
    /// <summary>The card file's folder (relative files are read from there).</summary>
    [JsonIgnore] public string? Folder { get; init; }

    public static ModelCard Classifier { get; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Reads and validates a card file; every error is one line naming the file and the field.</summary>
    public static ModelCard Read(string path)
    {
        string where = $"'{path}'";
        if (Directory.Exists(path)) throw new ModelCardException(where, "it is a folder, not a JSON file");
        if (!File.Exists(path)) throw new ModelCardException(where, "the file does not exist");
        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new ModelCardException(where, $"not a model card: {JsonError(e)}");
        }
        if (card is null) throw new ModelCardException(where, "the card is null");
        return card.Validated(where) with { Source = $"--model-card {path}", Folder = Path.GetDirectoryName(Path.GetFullPath(path)) };
    }

    /// <summary>
    /// The card a model's metadata describes: <c>sacam.card</c> (the whole card as JSON), else <c>sacam.task</c>
    /// with <c>sacam.output</c> and <c>sacam.target_layer</c>, else what Ultralytics writes (<c>task</c>, <c>names</c>,
    /// <c>imgsz</c>), else null.
    /// </summary>
    public static ModelCard? FromMetadata(IReadOnlyDictionary<string, string> metadata, string modelPath)
    {
        string where = $"in the metadata of '{modelPath}'";
        if (metadata.TryGetValue("sacam.card", out var json))
        {
            try
            {
                var card = JsonSerializer.Deserialize<ModelCard>(json, Json) ?? throw new ModelCardException(where, "sacam.card is null");
                return card.Validated(where) with { Source = "metadata sacam.card", Folder = Path.GetDirectoryName(Path.GetFullPath(modelPath)) };
            }
            catch (JsonException e)
            {
                throw new ModelCardException(where, $"sacam.card is not a model card: {JsonError(e)}");
            }
        }
        if (metadata.TryGetValue("sacam.task", out var task))
        {
            var card = new ModelCard
            {
                Task = ParseTask(task, where),
                Output = metadata.GetValueOrDefault("sacam.output"),
                TargetLayer = metadata.GetValueOrDefault("sacam.target_layer"),
                Source = "metadata sacam.task",
            };
            return card.Validated(where);
        }
        if (metadata.TryGetValue("task", out var ultralyticsTask) && metadata.ContainsKey("names"))
            return UltralyticsCard(ultralyticsTask, metadata, where);
        return null;
    }

    /// <summary>Ultralytics exports: task "detect" with an [N, 4 + C, A] output and names {0: 'person', ...}.</summary>
    private static ModelCard UltralyticsCard(string task, IReadOnlyDictionary<string, string> metadata, string where)
    {
        var names = UltralyticsNames(metadata["names"], where);
        int[]? size = metadata.TryGetValue("imgsz", out var imgsz) ? ParseInts(imgsz) : null;
        var preprocess = size is { Length: 2 } ? new CardPreprocess { Height = size[0], Width = size[1], Mean = [0, 0, 0], Std = [1, 1, 1], Resize = "letterbox" } : null;
        return task.Trim().ToLowerInvariant() switch
        {
            "detect" => new ModelCard
            {
                Task = ModelTask.Detection, Labels = names, Preprocess = preprocess, Source = "metadata (Ultralytics)",
                Detection = new DetectionCard { Format = DetectionFormat.Yolov8, ScoreThreshold = 0.25f, NmsIou = 0.7f, MaxDetections = 300 },
            },
            "classify" => new ModelCard { Task = ModelTask.Classification, Labels = names, Preprocess = preprocess, Source = "metadata (Ultralytics)" },
            _ => throw new ModelCardException(where, $"Ultralytics task '{task}' is not supported (detect and classify are; give a --model-card for others)"),
        };
    }

    /// <summary>Parses Ultralytics' names, a Python dict literal: {0: 'person', 1: "traffic light"}.</summary>
    internal static string[] UltralyticsNames(string text, string where)
    {
        var matches = System.Text.RegularExpressions.Regex.Matches(text, @"(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|""((?:[^""\\]|\\.)*)"")");
        if (matches.Count == 0) throw new ModelCardException(where, $"names is not a {{index: 'label'}} dictionary ({Excerpt(text)})");
        var byIndex = matches.ToDictionary(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value);
        int count = byIndex.Keys.Max() + 1;
        return Enumerable.Range(0, count).Select(i => byIndex.GetValueOrDefault(i, $"class {i}")).ToArray();
    }

    private static int[]? ParseInts(string text)
    {
        var parts = text.Trim('[', ']', '(', ')', ' ').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var p in parts)
            if (int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) values.Add(v);
            else return null;
        return values.Count == 1 ? [values[0], values[0]] : values.ToArray();
    }

    private static ModelTask ParseTask(string text, string where) => text.Trim().ToLowerInvariant() switch
    {
        "classification" => ModelTask.Classification,
        "segmentation" => ModelTask.Segmentation,
        "detection" => ModelTask.Detection,
        "regression" => ModelTask.Regression,
        _ => throw new ModelCardException(where, $"task '{text}' is not one of classification, segmentation, detection, regression"),
    };

    /// <summary>Checks what JSON cannot: a detector has a decoding, numbers are in range, files named exist.</summary>
    private ModelCard Validated(string where)
    {
        if (Task == ModelTask.Detection)
        {
            if (Detection is null)
                throw new ModelCardException(where, "task is detection but the card has no \"detection\" decoding: declare its format (ssd, yolov8, yolov5), outputs, score activation and threshold (docs/model-cards.md)");
            var d = Detection;
            if (d.Format == DetectionFormat.Ssd)
            {
                if (d.Boxes is null || d.Scores is null) throw new ModelCardException(where, "an ssd decoding names its \"boxes\" and \"scores\" outputs");
                if (d.Anchors is null && d.AnchorsFile is null) throw new ModelCardException(where, "an ssd decoding needs \"anchors\" (an output) or \"anchors_file\" (.npy [A, 4])");
                if (d.BoxScales is not { Length: 4 } || d.BoxScales.Any(s => !(s > 0) || float.IsInfinity(s))) throw new ModelCardException(where, "\"box_scales\" must be four positive numbers (y, x, h, w)");
            }
            if (!(d.ScoreThreshold >= 0 && d.ScoreThreshold <= 1)) throw new ModelCardException(where, $"\"score_threshold\" must be in [0, 1] (got {d.ScoreThreshold.ToString(CultureInfo.InvariantCulture)})");
            if (!(d.NmsIou > 0 && d.NmsIou <= 1)) throw new ModelCardException(where, $"\"nms_iou\" must be in (0, 1] (got {d.NmsIou.ToString(CultureInfo.InvariantCulture)})");
            if (d.MaxDetections < 1) throw new ModelCardException(where, $"\"max_detections\" must be at least 1 (got {d.MaxDetections})");
            if (d.BackgroundClass is < 0) throw new ModelCardException(where, $"\"background_class\" must be a score column, 0 or more (got {d.BackgroundClass})");
        }
        else if (Detection is not null)
        {
            throw new ModelCardException(where, $"a \"detection\" decoding is given but task is {Task.ToString().ToLowerInvariant()}");
        }
        if (LabelOffset < 0) throw new ModelCardException(where, $"\"label_offset\" must be 0 or more (got {LabelOffset})");
        Preprocess?.Validate(where);
        return this;
    }

    /// <summary>The labels the card gives, from <see cref="Labels"/> or <see cref="LabelsFile"/> (null: none).</summary>
    public ClassLabels? LoadLabels()
    {
        if (Labels is not null) return new ClassLabels(Labels, LabelOffset);
        if (LabelsFile is null) return null;
        var path = Path.IsPathRooted(LabelsFile) || Folder is null ? LabelsFile : Path.Combine(Folder, LabelsFile);
        return ClassLabels.FromFile(path).WithOffset(LabelOffset);
    }

    /// <summary>A path the card names, relative to the card's folder.</summary>
    public string Resolve(string file) => Path.IsPathRooted(file) || Folder is null ? file : Path.Combine(Folder, file);

    private static string JsonError(JsonException e)
    {
        // System.Text.Json says "The JSON property 'x' could not be mapped..." or "...could not be converted to..." with
        // a path: the path and the first sentence are what a user needs.
        string first = e.Message.Split(". Path:")[0].Split(" LineNumber:")[0];
        return e.Path is { Length: > 1 } p ? $"{first} (at {p})" : first;
    }

    private static string Excerpt(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

/// <summary>Preprocessing as a card states it; unset fields keep the model's.</summary>
public sealed record CardPreprocess
{
    public int? Width { get; init; }
    public int? Height { get; init; }
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }
    /// <summary>rgb or bgr.</summary>
    public string? Color { get; init; }
    /// <summary>stretch, center-crop[:fraction] or letterbox.</summary>
    public string? Resize { get; init; }

    internal void Validate(string where)
    {
        if (Width is < 8 or > 4096 || Height is < 8 or > 4096) throw new ModelCardException(where, "preprocess width and height must be 8 to 4096 pixels");
        if (Mean is not null && Mean.Length is not (1 or 3)) throw new ModelCardException(where, "preprocess mean has 1 or 3 numbers");
        if (Std is not null && (Std.Length is not (1 or 3) || Std.Any(s => !(s > 0)))) throw new ModelCardException(where, "preprocess std has 1 or 3 positive numbers");
        if (Color is not null && Color.ToLowerInvariant() is not ("rgb" or "bgr")) throw new ModelCardException(where, $"preprocess color is rgb or bgr (got '{Color}')");
        if (Resize is not null)
        {
            try { PreprocessSpec.ImageNet.WithResize(Resize); }
            catch (ArgumentException e) { throw new ModelCardException(where, $"preprocess resize: {e.Message}"); }
        }
    }

    public PreprocessSpec Apply(PreprocessSpec spec)
    {
        if (Width is int w) spec = spec with { Width = w };
        if (Height is int h) spec = spec with { Height = h };
        if (Mean is not null) spec = spec with { Mean = Mean.Length == 1 ? [Mean[0], Mean[0], Mean[0]] : Mean };
        if (Std is not null) spec = spec with { Std = Std.Length == 1 ? [Std[0], Std[0], Std[0]] : Std };
        if (Color is not null) spec = spec with { Channels = Color.Equals("bgr", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Bgr : ChannelOrder.Rgb };
        if (Resize is not null) spec = spec.WithResize(Resize);
        return spec;
    }
}

/// <summary>A model card that cannot be used: one line naming where it came from and what is wrong.</summary>
public sealed class ModelCardException(string where, string problem) : ArgumentException($"Model card {where}: {problem}.")
{
    public string Where { get; } = where;
}
