using System.Runtime.InteropServices;

namespace SaCam.Benchmarks;

/// <summary>What the numbers were measured on.</summary>
public static class Machine
{
    public static string Describe()
    {
        string cpu = "unknown CPU";
        if (File.Exists("/proc/cpuinfo"))
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? cpu;
        string memory = "";
        if (File.Exists("/proc/meminfo"))
        {
            var kb = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            memory = $", {long.Parse(kb) / 1024 / 1024} GiB";
        }
        return $"{cpu}, {Environment.ProcessorCount} cores{memory}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, " +
               $"TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}, libtorch threads {TorchSharp.torch.get_num_threads()}";
    }
}
