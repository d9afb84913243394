using System.Runtime.InteropServices;
using TorchSharp;

namespace SaCam.Core;

/// <summary>
/// Turns libtorch's NNPACK convolutions off, as PyTorch's torch.backends.nnpack.set_flags(False) does; TorchSharp
/// 0.107 has no binding for it, so this calls libtorch's own exported switch (at::globalContext()
/// .setUserEnabledNNPACK(false)). Why: before every CPU convolution libtorch asks whether NNPACK is available, and
/// where NNPACK cannot start (these virtual machines, although the CPU has AVX2) each question prints "Could not
/// initialize NNPACK! Reason: Unsupported hardware." to stderr: 312 lines in a 150-frame video run, burying progress
/// and errors. libtorch checks the switch first and then never asks. Where NNPACK cannot start, nothing else changes
/// (libtorch ran its own kernels anyway); where it can, libtorch uses it only for forward-only convolutions at batch
/// 16 and up, and its own kernels run those instead.
/// Part of <see cref="NativeRuntime.Configure"/>, the programs' opt-in: it is process-wide, so the library never
/// flips it by itself.
/// </summary>
public static class NnpackSwitch
{
    // Itanium C++ ABI names (Linux, macOS): at::globalContext() and at::Context::setUserEnabledNNPACK(bool).
    private const string GlobalContextSymbol = "_ZN2at13globalContextEv";
    private const string SetEnabledSymbol = "_ZN2at7Context20setUserEnabledNNPACKEb";
    private const string EnabledSymbol = "_ZNK2at7Context17userEnabledNNPACKEv";

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate nint GlobalContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetEnabledFn(nint context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool EnabledFn(nint context);

    /// <summary>Switches NNPACK off; false where libtorch does not export the switch (Windows, another libtorch
    /// build), and then nothing changed.</summary>
    public static bool Disable() => Switch(enabled: false);

    /// <summary>Whether libtorch will try NNPACK (null where the switch cannot be read).</summary>
    public static bool? IsEnabled()
    {
        if (!TryContext(out var library, out var context)) return null;
        if (!NativeLibrary.TryGetExport(library, EnabledSymbol, out var read)) return null;
        return Marshal.GetDelegateForFunctionPointer<EnabledFn>(read)(context);
    }

    private static bool Switch(bool enabled)
    {
        if (!TryContext(out var library, out var context)) return false;
        if (!NativeLibrary.TryGetExport(library, SetEnabledSymbol, out var set)) return false;
        Marshal.GetDelegateForFunctionPointer<SetEnabledFn>(set)(context, enabled);
        return true;
    }

    private static bool TryContext(out nint library, out nint context)
    {
        context = 0;
        library = 0;
        if (OperatingSystem.IsWindows()) return false;
        // TorchSharp loads libtorch (from the package's native folder) on first use; once loaded, the bare name
        // finds that same copy by its soname instead of a second one.
        torch.InitializeDeviceType(DeviceType.CPU);
        string name = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        if (!NativeLibrary.TryLoad(name, out library)) return false;
        if (!NativeLibrary.TryGetExport(library, GlobalContextSymbol, out var global)) return false;
        context = Marshal.GetDelegateForFunctionPointer<GlobalContextFn>(global)();
        return context != 0;
    }
}
