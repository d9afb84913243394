namespace SaCam.Core.Models;

/// <summary>Class labels, one per output index, looked up both ways.</summary>
public sealed class ClassLabels
{
    private readonly string[] _labels;

    public ClassLabels(IEnumerable<string> labels) => _labels = labels.ToArray();

    public static ClassLabels FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Labels file '{path}' does not exist.", path);
        return new ClassLabels(File.ReadAllLines(path).Where(l => l.Length > 0));
    }

    public int Count => _labels.Length;
    public string this[int index] => index >= 0 && index < _labels.Length ? _labels[index] : $"class {index}";

    /// <summary>Finds a class by label: exact (case-insensitive) match first, then the label's first comma-separated name.</summary>
    public int? IndexOf(string label)
    {
        for (int i = 0; i < _labels.Length; i++)
            if (string.Equals(_labels[i], label, StringComparison.OrdinalIgnoreCase)) return i;
        for (int i = 0; i < _labels.Length; i++)
            if (_labels[i].Split(',').Any(n => string.Equals(n.Trim(), label, StringComparison.OrdinalIgnoreCase))) return i;
        return null;
    }
}
