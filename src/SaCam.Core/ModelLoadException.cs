namespace SaCam.Core;

/// <summary>A model file or id could not be turned into a usable model. The message names the input and the reason.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string source, string reason, Exception? inner = null)
        : base($"Cannot load model '{source}': {reason}.", inner)
    {
        Source = source;
        Reason = reason;
    }

    public new string Source { get; }
    public string Reason { get; }
}
