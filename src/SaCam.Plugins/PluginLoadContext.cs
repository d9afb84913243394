using System.Reflection;
using System.Runtime.Loader;

namespace SaCam.Plugins;

/// <summary>
/// One load context per plugin: its own dependencies (by its .deps.json) stay private to it, so two plugins can use
/// different versions of a library. The contract and the host's assemblies always come from the host, so that an
/// ICamMethod made by the plugin is the host's ICamMethod.
/// </summary>
internal sealed class PluginLoadContext(string mainAssemblyPath) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(mainAssemblyPath))
{
    private static readonly HashSet<string> HostAssemblies = new(StringComparer.OrdinalIgnoreCase)
    {
        "SaCam.Core", "SaCam.Imaging", "SaCam.Video", "SaCam.Plugins", "TorchSharp", "OpenCvSharp", "System.Reactive",
    };

    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null || HostAssemblies.Contains(name.Name)) return null; // resolved by the default context
        if (Default.Assemblies.Any(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase))) return null;
        var path = _resolver.ResolveAssemblyToPath(name);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
