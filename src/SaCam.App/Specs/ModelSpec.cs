using SaCam.Core.Engines;
using SaCam.Core.Models;

namespace SaCam.App.Specs;

/// <summary>Which model explains, on what: the id or path, its labels, the device and the engine of its forward passes.</summary>
public sealed record ModelSpec
{
    /// <summary>default (the embedded backbone), PATH.onnx, a weights file, or torchvision:ARCH[:WEIGHTS].</summary>
    public string Id { get; init; } = ModelCatalog.DefaultModelId;
    public string? Labels { get; init; }
    /// <summary>A model card (JSON) saying what the model's outputs mean: task, outputs, labels, decoding.</summary>
    public string? Card { get; init; }
    /// <summary>The first N classes have no label (TensorFlow's 1001-class models with a 1000-line file).</summary>
    public int LabelsOffset { get; init; }
    public DeviceName Device { get; init; } = DeviceName.Cpu;
    public EngineKind Engine { get; init; } = EngineKind.Auto;
    /// <summary>ONNX Runtime's threads; null: one per core, at most 8.</summary>
    public int? Threads { get; init; }

    public EngineOptions EngineOptions => new() { Kind = Engine, Threads = Threads };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Id)) throw new ArgumentException("The model is empty: give default, PATH.onnx or torchvision:ARCH.");
        if (LabelsOffset < 0) throw new ArgumentException($"--labels-offset must be at least 0 (got {LabelsOffset}).");
        if (Threads is < 1) throw new ArgumentException($"--threads must be at least 1 (got {Threads}).");
    }
}

/// <summary>A device name as the user writes it (cpu, cuda, cuda:N), checked for form when made. Whether this build
/// and machine can run it is decided when the model loads (a CUDA device on the CPU build names the build switch).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(DeviceNameJsonConverter))]
public readonly record struct DeviceName
{
    public static readonly DeviceName Cpu = new("cpu");

    private DeviceName(string value) => Value = value;

    public string Value => field ?? "cpu";

    public static DeviceName Parse(string? text)
    {
        var name = (text ?? "cpu").Trim().ToLowerInvariant();
        bool valid = name is "cpu" or "cuda"
                     || (name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name[5..], System.Globalization.NumberStyles.None,
                         System.Globalization.CultureInfo.InvariantCulture, out _));
        if (!valid) throw new ArgumentException($"Device '{text}' is not valid: use cpu, cuda or cuda:N.");
        return new DeviceName(name);
    }

    public override string ToString() => Value;
}

internal sealed class DeviceNameJsonConverter : System.Text.Json.Serialization.JsonConverter<DeviceName>
{
    public override DeviceName Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        try { return DeviceName.Parse(reader.GetString()); }
        catch (ArgumentException e) { throw new System.Text.Json.JsonException(e.Message, e); }
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, DeviceName value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
