using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>Reads several scalars from the device in one transfer: each item() on a GPU waits for the device, so a
/// frame that needs four numbers pays one wait instead of four. The values are the same floats item() returns.</summary>
internal static class DeviceReads
{
    public static float[] Floats(params Tensor[] scalars)
    {
        using var packed = stack(scalars.Select(s => s.to_type(ScalarType.Float32)).ToArray()).cpu();
        return packed.data<float>().ToArray();
    }
}
