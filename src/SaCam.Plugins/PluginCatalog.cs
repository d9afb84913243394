using System.Reflection;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Video.Overlays;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Plugins;

/// <summary>A loaded plugin and what it added.</summary>
public sealed record LoadedPlugin(string Name, string AssemblyPath, int ContractVersion, IReadOnlyList<string> Added);

/// <summary>
/// Everything the built-ins and the loaded plugins offer, by id: the one place the host asks for a method, target,
/// source, sink or overlay that a user named. Built-ins are answered from their own registries (MethodRegistry,
/// FrameSources); plugins add to them here without changing them.
/// </summary>
public sealed class PluginCatalog : IPluginRegistry
{
    private readonly Dictionary<string, Func<ICamMethod>> _methods = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<string, IExplainableModel, IExplanationTarget>> _targets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IObjectTargetKind> _objectTargets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<string, IFrameSource>> _sources = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<string, IFrameSink>> _sinks = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<string, IFrameOverlay>> _overlays = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<LoadedPlugin> _plugins = [];
    private readonly List<string> _addedByCurrent = [];
    private string _current = "host";

    /// <summary>Targets every catalog has: <c>exemplar:IMAGE</c> (similarity to an exemplar image's embedding).</summary>
    public static readonly IReadOnlyList<string> BuiltInTargets = ["exemplar"];

    /// <summary>The built-in object target kinds (the application layer's ObjectTargets): a plugin cannot take them.</summary>
    public static readonly IReadOnlyList<string> BuiltInObjectTargets = ["seg", "det", "output"];

    private PluginCatalog()
    {
        _targets["exemplar"] = (argument, model) => Imaging.ExemplarTarget.FromImage(argument, model);
    }

    /// <summary>A catalog with the built-ins only.</summary>
    public static PluginCatalog BuiltInOnly() => new();

    public IReadOnlyList<LoadedPlugin> Plugins => _plugins;

    /// <summary>
    /// Loads every plugin in <paramref name="directory"/>: each DLL directly in it, and in each subfolder the DLL
    /// named like the folder (the layout `dotnet publish` of a plugin gives). Any plugin that cannot be used stops
    /// the load with an error naming it: a half-loaded set of plugins would make runs differ silently.
    /// </summary>
    public static PluginCatalog Load(string directory)
    {
        var catalog = new PluginCatalog();
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Plugin folder '{directory}' does not exist.");
        foreach (var path in PluginFiles(directory)) catalog.LoadPlugin(path);
        return catalog;
    }

    private static IEnumerable<string> PluginFiles(string directory)
    {
        foreach (var dll in Directory.GetFiles(directory, "*.dll").Order(StringComparer.Ordinal)) yield return dll;
        foreach (var sub in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var main = Path.Combine(sub, Path.GetFileName(sub) + ".dll");
            if (File.Exists(main)) yield return main;
        }
    }

    /// <summary>Loads one plugin assembly in a load context of its own and lets its entry points register.</summary>
    public void LoadPlugin(string assemblyPath)
    {
        string file = Path.GetFileName(assemblyPath);
        if (!File.Exists(assemblyPath)) throw new PluginLoadException(file, $"'{assemblyPath}' does not exist.");
        Assembly assembly;
        try
        {
            assembly = new PluginLoadContext(Path.GetFullPath(assemblyPath)).LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
        }
        catch (BadImageFormatException e)
        {
            throw new PluginLoadException(file, "is not a .NET assembly.", e);
        }
        var marker = assembly.GetCustomAttribute<SaCamPluginAttribute>()
            ?? throw new PluginLoadException(file, $"is not a SaCam plugin: it has no [assembly: SaCamPlugin(...)] (contract version {PluginContract.Version}).");
        if (marker.ContractVersion != PluginContract.Version)
            throw new PluginLoadException(file, $"was built for plugin contract version {marker.ContractVersion}; this host supports version {PluginContract.Version}. Rebuild it against this SaCam.Plugins.");
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or TypeLoadException)
        {
            throw new PluginLoadException(file, $"does not load against this host ({e.Message}); it was probably built against other SaCam assemblies.", e);
        }
        var entries = types.Where(t => typeof(ISaCamPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
        if (entries.Count == 0) throw new PluginLoadException(file, "declares itself a SaCam plugin but has no public ISaCamPlugin class.");
        foreach (var type in entries)
        {
            var plugin = type.GetConstructor(Type.EmptyTypes) is { } ctor
                ? (ISaCamPlugin)ctor.Invoke(null)
                : throw new PluginLoadException(file, $"{type.FullName} needs a public parameterless constructor.");
            _current = $"{plugin.Name} ({file})";
            _addedByCurrent.Clear();
            try
            {
                plugin.Register(this);
            }
            catch (Exception e) when (e is not PluginLoadException)
            {
                throw new PluginLoadException(file, $"{plugin.Name} failed while registering: {e.Message}", e);
            }
            finally
            {
                _current = "host";
            }
            _plugins.Add(new LoadedPlugin(plugin.Name, Path.GetFullPath(assemblyPath), marker.ContractVersion, _addedByCurrent.ToList()));
        }
    }

    // IPluginRegistry: ids are checked against the built-ins and everything registered before.
    public void AddMethod(string id, Func<ICamMethod> create)
    {
        if (MethodRegistry.IsBuiltIn(id) || id.Equals(Video.Pipeline.FrameExplainer.ClassifyOnly, StringComparison.OrdinalIgnoreCase))
            throw new PluginLoadException(_current, $"method id '{id}' is a built-in method's.");
        Add(_methods, "method", id, create);
    }

    public void AddTarget(string id, Func<string, IExplainableModel, IExplanationTarget> create)
    {
        RefuseTakenTargetId(id);
        Add(_targets, "target", id, create);
    }

    public void AddObjectTarget(string kind, IObjectTargetKind objects)
    {
        RefuseTakenTargetId(kind);
        Add(_objectTargets, "object target", kind, objects);
    }

    /// <summary>Targets and object targets share <c>--target ID:ARGUMENT</c>, so an id may name only one of them.</summary>
    private void RefuseTakenTargetId(string id)
    {
        if (BuiltInTargets.Contains(id, StringComparer.OrdinalIgnoreCase) || BuiltInObjectTargets.Contains(id, StringComparer.OrdinalIgnoreCase))
            throw new PluginLoadException(_current, $"target id '{id}' is a built-in target's.");
        if (_targets.ContainsKey(id) || _objectTargets.ContainsKey(id))
            throw new PluginLoadException(_current, $"target id '{id}' is already taken by another plugin.");
    }

    /// <summary>The plugin object target kind <paramref name="target"/> (<c>KIND:ARGUMENT</c>) names, or null.</summary>
    public IObjectTargetKind? ObjectTargetKind(string? target) =>
        target is not null && Split(target) is (var kind, not null) ? _objectTargets.GetValueOrDefault(kind) : null;
    public void AddSource(string scheme, Func<string, IFrameSource> open) => Add(_sources, "source", scheme, open);
    public void AddSink(string id, Func<string, IFrameSink> create) => Add(_sinks, "sink", id, create);
    public void AddOverlay(string id, Func<string, IFrameOverlay> create) => Add(_overlays, "overlay", id, create);

    private void Add<T>(Dictionary<string, T> registry, string kind, string id, T factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (string.IsNullOrWhiteSpace(id) || id.Contains(':'))
            throw new PluginLoadException(_current, $"{kind} id '{id}' is not valid (non-empty, no ':').");
        if (!registry.TryAdd(id, factory))
            throw new PluginLoadException(_current, $"{kind} id '{id}' is already taken by another plugin.");
        _addedByCurrent.Add($"{kind} {id}");
    }

    /// <summary>A method by id: a plugin's, else a built-in (MethodRegistry), else an error listing both.</summary>
    public ICamMethod CreateMethod(string id)
    {
        if (_methods.TryGetValue(id, out var make)) return make();
        try
        {
            return MethodRegistry.Create(id);
        }
        catch (ArgumentException) when (_methods.Count > 0)
        {
            throw new ArgumentException($"Unknown method '{id}'. Built-in: {string.Join(", ", MethodRegistry.Ids)}; from plugins: {string.Join(", ", _methods.Keys.Order())}.");
        }
    }

    public IReadOnlyList<string> MethodIds => [.. MethodRegistry.Ids, .. _methods.Keys.Order()];

    /// <summary>A source: <c>scheme:rest</c> of a plugin, else the built-in file/camera/folder/URL sources.</summary>
    public IFrameSource OpenSource(string spec)
    {
        var (id, argument) = Split(spec);
        return argument is not null && _sources.TryGetValue(id, out var open) ? open(argument) : FrameSources.Open(spec);
    }

    /// <summary>A plugin sink from <c>id[:argument]</c>.</summary>
    public IFrameSink CreateSink(string spec)
    {
        var (id, argument) = Split(spec);
        return _sinks.TryGetValue(id, out var make) ? make(argument ?? "")
            : throw new ArgumentException($"Unknown sink '{id}'. {Known("sinks", _sinks.Keys)}");
    }

    /// <summary>A plugin overlay from <c>id[:argument]</c>.</summary>
    public IFrameOverlay CreateOverlay(string spec)
    {
        var (id, argument) = Split(spec);
        return _overlays.TryGetValue(id, out var make) ? make(argument ?? "")
            : throw new ArgumentException($"Unknown overlay '{id}'. {Known("overlays", _overlays.Keys)}");
    }

    /// <summary>A plugin target from <c>id:argument</c>, for this model.</summary>
    public IExplanationTarget CreateTarget(string spec, IExplainableModel model)
    {
        var (id, argument) = Split(spec);
        return _targets.TryGetValue(id, out var make) ? make(argument ?? "", model)
            : throw new ArgumentException($"Unknown target '{id}'. {Known("targets", _targets.Keys)}");
    }

    private static (string Id, string? Argument) Split(string spec)
    {
        int colon = spec.IndexOf(':');
        return colon < 0 ? (spec, null) : (spec[..colon], spec[(colon + 1)..]);
    }

    private static string Known(string kind, IEnumerable<string> ids)
    {
        var list = ids.Order().ToList();
        return list.Count == 0 ? $"No plugin loaded adds {kind} (load plugins with --plugins DIR)." : $"Known {kind}: {string.Join(", ", list)}.";
    }
}
