using System.CommandLine;
using SaCam.Cli;
using SaCam.Core;

// Video runs last hours with small passes: keep memory flat (Streaming). Everything else runs large batched passes.
NativeRuntime.Configure(args.FirstOrDefault() == "video" ? NativeProfile.Streaming : NativeProfile.Batched);
var root = new RootCommand("SaCam.Realtime: class activation maps (SA-CAM, Grad-CAM, Score-CAM, ...) for images and video.");
root.Subcommands.Add(ExplainCommand.Create());
root.Subcommands.Add(VideoCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ReviewCommand.Create());
root.Subcommands.Add(PluginsCommand.Create());
return CliRunner.Run(root, args);
