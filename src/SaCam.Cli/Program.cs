using SaCam.Cli;
using SaCam.Core;

// Video and serve run for hours with small passes: keep memory flat (Streaming). Everything else runs large batched passes.
NativeRuntime.Configure(args.FirstOrDefault() is "video" or "serve" ? NativeProfile.Streaming : NativeProfile.Batched);
return CliRunner.Run(SacamCommands.Root(), args);
