using System.CommandLine;
using SaCam.Plugins;

namespace SaCam.Cli;

/// <summary>The --plugins option every command that resolves methods, sources or sinks shares.</summary>
public static class PluginOptions
{
    public const string EnvironmentVariable = App.Building.PluginCatalogs.EnvironmentVariable;

    public static Option<string?> Create() => new("--plugins")
    {
        Description = $"Folder of plugins (methods, targets, sources, sinks, overlays) to load; default: ${EnvironmentVariable} if set.",
    };

    /// <summary>The catalog for a command: the built-ins, plus the plugins of the folder named (or of $SACAM_PLUGINS).</summary>
    public static PluginCatalog Load(string? folder) => App.Building.PluginCatalogs.Load(folder);
}

/// <summary>sacam plugins [DIR]: what a plugin folder adds, or why it cannot be loaded.</summary>
public static class PluginsCommand
{
    public static Command Create()
    {
        var folder = new Argument<string?>("folder") { Description = $"Plugin folder (default: ${PluginOptions.EnvironmentVariable}).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("plugins", "List the plugins of a folder and what each adds.");
        command.Arguments.Add(folder);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            var catalog = PluginOptions.Load(parse.GetValue(folder));
            if (catalog.Plugins.Count == 0) Console.WriteLine("no plugins loaded");
            foreach (var p in catalog.Plugins)
                Console.WriteLine($"{p.Name} (contract v{p.ContractVersion}, {p.AssemblyPath}): {string.Join(", ", p.Added)}");
            return CliRunner.Ok;
        }));
        return command;
    }
}
