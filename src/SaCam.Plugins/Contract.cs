using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Video.Overlays;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Plugins;

/// <summary>
/// The plugin contract's version. It changes only when <see cref="ISaCamPlugin"/> or <see cref="IPluginRegistry"/>
/// change incompatibly; a plugin declares the version it was built for with <see cref="SaCamPluginAttribute"/>, and
/// the host refuses any other with an error that names both.
/// </summary>
public static class PluginContract
{
    public const int Version = 1;
}

/// <summary>Marks an assembly as a SaCam plugin built against contract <see cref="ContractVersion"/>:
/// <c>[assembly: SaCamPlugin(PluginContract.Version)]</c>.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class SaCamPluginAttribute(int contractVersion) : Attribute
{
    public int ContractVersion { get; } = contractVersion;
}

/// <summary>
/// A plugin's entry point: a public class with a parameterless constructor. The host creates it once and calls
/// <see cref="Register"/>, in which the plugin adds what it brings.
/// </summary>
public interface ISaCamPlugin
{
    /// <summary>Shown by <c>sacam plugins</c>.</summary>
    string Name { get; }

    void Register(IPluginRegistry registry);
}

/// <summary>
/// What a plugin can add. Ids are case-insensitive and must not collide with built-in ones or another plugin's.
/// Factories are called by the host when a user names the id (on the command line or in code), with the text after
/// the first ':' as argument where there is one (e.g. <c>--sink csv:frames.csv</c>).
/// </summary>
public interface IPluginRegistry
{
    void AddMethod(string id, Func<ICamMethod> create);

    /// <summary>A target parsed from an argument, for a loaded model (e.g. <c>--target prototype:dog.npy</c>).</summary>
    void AddTarget(string id, Func<string, IExplainableModel, IExplanationTarget> create);

    /// <summary>A source for specs that start with <c>scheme:</c>.</summary>
    void AddSource(string scheme, Func<string, IFrameSource> open);

    void AddSink(string id, Func<string, IFrameSink> create);

    void AddOverlay(string id, Func<string, IFrameOverlay> create);
}
