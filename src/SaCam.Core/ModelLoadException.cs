namespace SaCam.Core;

/// <summary>A model file or id could not be turned into a usable model. The message names the input and the reason.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string source, string reason, Exception? inner = null)
        : base($"Cannot load model '{source}': {reason}.", inner)
    {
        Model = source;
        Reason = reason;
    }

    /// <summary>The path or id that failed to load.</summary>
    public string Model { get; }
    public string Reason { get; }
}
