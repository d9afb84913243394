using SaCam.Cli;
using SaCam.Core;

// Video runs last hours with small passes: keep memory flat (Streaming). Everything else runs large batched passes.
NativeRuntime.Configure(args.FirstOrDefault() == "video" ? NativeProfile.Streaming : NativeProfile.Batched);
return CliRunner.Run(SacamCommands.Root(), args);
