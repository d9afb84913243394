namespace SaCam.Core.Models;

/// <summary>Class labels, one per output index, looked up both ways. With an offset, the first label belongs to
/// class <c>Offset</c> and the classes below it have none (TensorFlow's 1001-class models keep class 0 for
/// "background", which a 1000-line ImageNet labels file does not name).</summary>
public sealed class ClassLabels
{
    private readonly string[] _labels;

    public ClassLabels(IEnumerable<string> labels, int offset = 0)
    {
        _labels = labels.ToArray();
        Offset = offset;
    }

    /// <summary>One label per line. Blank lines inside the file count (a line is a class); trailing ones do not.</summary>
    public static ClassLabels FromFile(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"Labels file '{path}' is a folder, not a file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Labels file '{path}' does not exist.", path);
        var lines = File.ReadAllLines(path).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        return new ClassLabels(lines.Select(l => l.Trim()));
    }

    public int Count => _labels.Length;
    public int Offset { get; }

    public ClassLabels WithOffset(int offset) => new(_labels, offset);

    public string this[int index] => index - Offset >= 0 && index - Offset < _labels.Length ? _labels[index - Offset] : $"class {index}";

    /// <summary>The class of <paramref name="label"/>, else an error naming it, the model, and the nearest labels
    /// (see <see cref="LabelSuggestions"/>).</summary>
    public int Find(string label, string modelName) =>
        IndexOf(label) ?? throw new SettingException(new($"{{Class}} '{label}' is not a label of model '{modelName}'.{LabelSuggestions.Sentence(label, _labels)}"));

    /// <summary>Finds a class by label: exact (case-insensitive) match first, then the label's first comma-separated name.</summary>
    public int? IndexOf(string label)
    {
        for (int i = 0; i < _labels.Length; i++)
            if (string.Equals(_labels[i], label, StringComparison.OrdinalIgnoreCase)) return i + Offset;
        for (int i = 0; i < _labels.Length; i++)
            if (_labels[i].Split(',').Any(n => string.Equals(n.Trim(), label, StringComparison.OrdinalIgnoreCase))) return i + Offset;
        return null;
    }
}
