using SaCam.Core.Methods;
using SaCam.Plugins;
using static TorchSharp.torch;

[assembly: SaCamPlugin(PluginContract.Version)]

namespace SaCam.Plugin.Flaky;

/// <summary>Adds method id <c>flaky</c>.</summary>
public sealed class FlakyPlugin : ISaCamPlugin
{
    public string Name => "flaky (tests)";

    public void Register(IPluginRegistry registry) => registry.AddMethod(FlakyMethod.MethodId, () => new FlakyMethod());
}

/// <summary>The exception a method throws on its own (not a type the server knows).</summary>
public sealed class FlakyMethodException(string message) : Exception(message);

/// <summary>
/// The channel mean of the target layer's activations (one forward pass, no gradients), except on every third call,
/// which throws, in turn: an exception of its own, an OperationCanceledException (a cancelled run), and an error from
/// TorchSharp (a float tensor read as longs). The first two texts start with "flaky:"; TorchSharp's is its own.
/// </summary>
public sealed class FlakyMethod : ICamMethod
{
    public const string MethodId = "flaky";
    private long _calls;

    public string Id => MethodId;
    public bool NeedsGradients => false;

    public CamComputation Compute(CamInputs inputs)
    {
        long call = ++_calls;
        if (call % 3 == 0)
        {
            switch (call / 3 % 3)
            {
                case 1: throw new FlakyMethodException($"flaky: call {call} fails on purpose");
                case 2: throw new OperationCanceledException($"flaky: call {call} cancelled on purpose");
                default:
                    // An error TorchSharp raises itself: a float tensor read as longs. (A c10::Error thrown inside
                    // libtorch, such as a product of shapes that do not agree, ends this build's process through
                    // std::terminate before any managed code sees it: no server can answer that one.)
                    using (var a = zeros(2, 3))
                    using (var wrong = a.data<long>()) { }
                    throw new InvalidOperationException("flaky: TorchSharp read a float tensor as longs");
            }
        }
        var map = nn.functional.relu(inputs.Activations[0].mean([0]));
        return CamComputation.FromMap(map);
    }
}
