namespace SaCam.Benchmarks;

/// <summary>Each benchmark owns one marked section of docs/benchmarks.md and rewrites only that.</summary>
public static class MarkdownSections
{
    public static void Replace(string path, string name, string content)
    {
        string begin = $"<!-- {name}:begin -->", end = $"<!-- {name}:end -->";
        var text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nWritten by `dotnet run -c Release --project tests/SaCam.Benchmarks`. " +
            "Absolute times drift on these shared machines; the ratios are measured side by side in one run.\n\n";
        var block = $"{begin}\n{content.TrimEnd()}\n{end}";
        int i = text.IndexOf(begin, StringComparison.Ordinal), j = text.IndexOf(end, StringComparison.Ordinal);
        text = i >= 0 && j > i ? text[..i] + block + text[(j + end.Length)..] : text.TrimEnd() + "\n\n" + block + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, text);
    }
}
