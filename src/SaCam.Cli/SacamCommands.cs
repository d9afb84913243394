using System.CommandLine;

namespace SaCam.Cli;

/// <summary>The `sacam` command tree, built in one place for the program and for the tests that run it in process.</summary>
public static class SacamCommands
{
    public static RootCommand Root()
    {
        var root = new RootCommand("SaCam.Realtime: class activation maps (SA-CAM, Grad-CAM, Score-CAM, ...) for images and video.");
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(VideoCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ReviewCommand.Create());
        root.Subcommands.Add(PluginsCommand.Create());
        root.Subcommands.Add(MethodsCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(FleetCommand.Create());
        OptionRules.SkipUnconvertedValues(root);
        return root;
    }
}
