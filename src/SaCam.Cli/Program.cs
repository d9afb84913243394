using SaCam.Cli;
using SaCam.Core;

// Video, serve and fleet workers run for hours with small passes: keep memory flat (Streaming). Everything else runs large batched passes.
NativeRuntime.Configure(args.FirstOrDefault() is "video" or "serve" or "fleet" ? NativeProfile.Streaming : NativeProfile.Batched);
// explain and video end their start-up with a progress line; a stop before it ends the process at once (StartupStop).
StartupStop.Enabled = args.FirstOrDefault() is "explain" or "video";
return CliRunner.Run(SacamCommands.Root(), args);
