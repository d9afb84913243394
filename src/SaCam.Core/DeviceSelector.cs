using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core;

/// <summary>Parses device names (cpu, cuda, cuda:N) and refuses, with the build switch named, what this build cannot run.</summary>
public static class DeviceSelector
{
    public const string CudaBuildHint =
        "this build ships the CPU libtorch; rebuild with the CUDA backend (dotnet build -p:SaCamTorchBackend=cuda) on a machine with an NVIDIA GPU and driver";

    public static Device Parse(string? text)
    {
        var name = (text ?? "cpu").Trim().ToLowerInvariant();
        if (name == "cpu") return CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (name.Length > 5 && !int.TryParse(name[5..], out index))
                throw new ArgumentException($"Device '{text}' is not valid: use cpu, cuda or cuda:N.");
            if (!cuda.is_available())
                throw new DeviceUnavailableException($"Device '{text}' was requested, but CUDA is not available: {CudaBuildHint}.");
            if (index >= cuda.device_count())
                throw new DeviceUnavailableException($"Device '{text}' was requested, but only {cuda.device_count()} CUDA device(s) exist.");
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"Device '{text}' is not valid: use cpu, cuda or cuda:N.");
    }
}

public sealed class DeviceUnavailableException(string message) : Exception(message);
