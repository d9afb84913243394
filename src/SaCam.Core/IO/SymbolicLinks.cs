namespace SaCam.Core.IO;

/// <summary>Resolves the symbolic links in every component of an existing path, in managed code: .NET's
/// ResolveLinkTarget only follows the last component, and Mono.Unix's UnixPath.GetCompleteRealPath never returns
/// on .NET 10 (every run that checked its outputs hung), so the walk is done here, one component at a time.</summary>
internal static class SymbolicLinks
{
    // The limit Linux itself applies (MAXSYMLINKS): a loop of links ends here instead of spinning.
    private const int MaxLinksFollowed = 40;

    public static string ResolveEveryComponent(string existingPath)
    {
        var pending = new Stack<string>(Components(Path.GetFullPath(existingPath)).Reverse());
        var resolved = Path.GetPathRoot(Path.GetFullPath(existingPath)) ?? "/";
        int followed = 0;
        while (pending.Count > 0)
        {
            var name = pending.Pop();
            if (name == ".") continue;
            if (name == "..") { resolved = Path.GetDirectoryName(resolved) ?? resolved; continue; }
            var candidate = Path.Combine(resolved, name);
            var target = LinkTargetOf(candidate);
            if (target is null) { resolved = candidate; continue; }
            if (++followed > MaxLinksFollowed) return Path.GetFullPath(existingPath);
            // An absolute target restarts from its root; a relative one continues from the link's folder.
            if (Path.IsPathRooted(target)) resolved = Path.GetPathRoot(target) ?? "/";
            foreach (var part in Components(target).Reverse()) pending.Push(part);
        }
        return resolved;
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);

    private static string? LinkTargetOf(string path)
    {
        try
        {
            FileSystemInfo info = new FileInfo(path);
            if (!info.Exists && Directory.Exists(path)) info = new DirectoryInfo(path);
            return info.LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
