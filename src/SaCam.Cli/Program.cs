using System.CommandLine;
using SaCam.Cli;
using SaCam.Core;

NativeRuntime.Configure();
var root = new RootCommand("SaCam.Realtime: class activation maps (SA-CAM, Grad-CAM, Score-CAM, ...) for images and video.");
root.Subcommands.Add(ExplainCommand.Create());
root.Subcommands.Add(VideoCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
return CliRunner.Run(root, args);
