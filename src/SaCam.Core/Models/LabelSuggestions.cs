namespace SaCam.Core.Models;

/// <summary>
/// The labels nearest to a name that is not one, for the message that refuses it: ImageNet has no "car", but has
/// "sports car" and "car wheel", and a user who typed "car" wants to see them. Names containing the text as a word
/// come first, then names containing it at all, then names within a few typing edits; a label's first name (the
/// one shown as its label) before its synonyms, shorter names before longer ones; one suggestion per class.
/// </summary>
public static class LabelSuggestions
{
    public const int DefaultCount = 5;

    /// <summary>Up to <paramref name="count"/> names, best first, each one that <see cref="ClassLabels.IndexOf"/> finds.</summary>
    public static IReadOnlyList<string> For(string text, IReadOnlyList<string> labels, int count = DefaultCount)
    {
        var wanted = text.Trim();
        if (wanted.Length == 0 || count <= 0) return [];
        int maxEdits = Math.Max(1, wanted.Length / 3);
        var best = new Dictionary<int, (int Tier, int Edits, bool Synonym, int Length, string Name)>();
        for (int i = 0; i < labels.Count; i++)
        {
            var names = labels[i].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (int n = 0; n < names.Length; n++)
            {
                var name = names[n];
                int tier, edits = 0;
                if (ContainsWord(name, wanted)) tier = 0;
                else if (name.Contains(wanted, StringComparison.OrdinalIgnoreCase)) tier = 1;
                else if ((edits = EditDistance(name.ToLowerInvariant(), wanted.ToLowerInvariant(), maxEdits)) <= maxEdits) tier = 2;
                else continue;
                var candidate = (tier, edits, n > 0, name.Length, name);
                if (!best.TryGetValue(i, out var held) || Compare(candidate, held) < 0) best[i] = candidate;
            }
        }
        return best.Values.Order(Comparer<(int, int, bool, int, string)>.Create(Compare)).Take(count).Select(c => c.Item5).ToList();
    }

    /// <summary>" Did you mean: "a", "b"?" or "" when nothing is near.</summary>
    public static string Sentence(string text, IReadOnlyList<string> labels)
    {
        var near = For(text, labels);
        return near.Count == 0 ? "" : $" Did you mean: {string.Join(", ", near.Select(n => $"\"{n}\""))}?";
    }

    private static int Compare((int Tier, int Edits, bool Synonym, int Length, string Name) a, (int Tier, int Edits, bool Synonym, int Length, string Name) b) =>
        a.Tier != b.Tier ? a.Tier.CompareTo(b.Tier)
        : a.Edits != b.Edits ? a.Edits.CompareTo(b.Edits)
        : a.Synonym != b.Synonym ? a.Synonym.CompareTo(b.Synonym)
        : a.Length != b.Length ? a.Length.CompareTo(b.Length)
        : string.CompareOrdinal(a.Name, b.Name);

    private static bool ContainsWord(string name, string word)
    {
        for (int at = name.IndexOf(word, StringComparison.OrdinalIgnoreCase); at >= 0;
             at = name.IndexOf(word, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            bool startsWord = at == 0 || !char.IsLetterOrDigit(name[at - 1]);
            bool endsWord = at + word.Length == name.Length || !char.IsLetterOrDigit(name[at + word.Length]);
            if (startsWord && endsWord) return true;
        }
        return false;
    }

    /// <summary>Levenshtein distance, or <paramref name="limit"/> + 1 as soon as it must exceed the limit.</summary>
    private static int EditDistance(string a, string b, int limit)
    {
        if (Math.Abs(a.Length - b.Length) > limit) return limit + 1;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                rowMin = Math.Min(rowMin, current[j]);
            }
            if (rowMin > limit) return limit + 1;
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
