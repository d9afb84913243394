using SaCam.Core;

namespace SaCam.Tests;

/// <summary>Native settings (malloc, OpenMP) before any test touches libtorch.</summary>
[SetUpFixture]
public class TestSetup
{
    [OneTimeSetUp]
    public void ConfigureNativeRuntime() => NativeRuntime.Configure();
}
