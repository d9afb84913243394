using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>
/// A model outlives whatever dispose scope its caller had open while loading it: its parameters and buffers
/// must not be registered there, or they are freed when the caller's scope ends.
/// </summary>
internal static class ModuleOwnership
{
    public static T DetachFromCallerScope<T>(T module) where T : nn.Module
    {
        foreach (var p in module.parameters()) p.DetachFromDisposeScope();
        foreach (var b in module.buffers()) b.DetachFromDisposeScope();
        return module;
    }
}
