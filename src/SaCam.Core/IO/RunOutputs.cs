namespace SaCam.Core.IO;

/// <summary>
/// The files a command reads and writes, checked together before anything is opened: an output may not be an
/// input (that would truncate the user's clip or model), nor another output of the same run (two writers in one
/// file), nor an existing non-regular file (a device, a pipe). Comparison is by file identity (device and inode,
/// real paths), never by string. <see cref="Claim"/> then locks every output against a concurrent run.
/// </summary>
public sealed class RunOutputs
{
    private readonly List<(string What, FileIdentity Id)> _inputs = [];
    private readonly List<(string What, string Path, FileIdentity Id, bool Folder)> _outputs = [];

    /// <summary>A file or folder the run reads, or a glob of files (dir/*.png). Missing ones are ignored here (their
    /// own check reports them). A folder's files (at any depth: a DICOM series folder is read whole) and a glob's
    /// matches are inputs too: writing over one slice of a series is as destructive as writing over a clip.</summary>
    public RunOutputs Input(string what, string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Contains("://")) return this;
        var id = FileIdentity.Of(path);
        if (id.Exists) _inputs.Add((what, id));
        foreach (var member in Members(path, id))
        {
            var memberId = FileIdentity.Of(member);
            if (memberId.Exists) _inputs.Add(($"{what} (it reads '{member}')", memberId));
        }
        return this;
    }

    private static IEnumerable<string> Members(string path, FileIdentity id)
    {
        try
        {
            if (id.Kind == FileKind.Directory) return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).ToList();
            if (!id.Exists && path.IndexOfAny(['*', '?']) >= 0)
            {
                var folder = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
                if (Directory.Exists(folder)) return Directory.GetFiles(folder, Path.GetFileName(path));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder the run cannot list fails when the source opens it, naming the folder; nothing to compare here.
        }
        return [];
    }

    /// <summary>A file the run writes (or replaces).</summary>
    public RunOutputs File(string what, string? path) => Add(what, path, folder: false);

    /// <summary>A folder the run writes files into.</summary>
    public RunOutputs Folder(string what, string? path) => Add(what, path, folder: true);

    private RunOutputs Add(string what, string? path, bool folder)
    {
        if (string.IsNullOrEmpty(path)) return this;
        var id = FileIdentity.Of(path);
        if (folder)
        {
            if (id.Exists && id.Kind != FileKind.Directory)
                throw new OutputRefusedException($"{what} '{path}' is {FileIdentity.Describe(id.Kind)}, not a folder.");
        }
        else if (id.Exists && id.Kind != FileKind.Regular)
        {
            throw new OutputRefusedException($"{what} '{path}' is {FileIdentity.Describe(id.Kind)}, not a regular file: refusing to write over it.");
        }
        OutputFolderProbe.Check(what, path, folder);
        foreach (var input in _inputs)
        {
            if (id.SameFileAs(input.Id))
                throw new OutputRefusedException($"{what} '{path}' is the {input.What}: refusing to overwrite an input. Choose another output.");
        }
        foreach (var other in _outputs)
        {
            if (id.SameFileAs(other.Id) || (other.Folder && IsInside(id.RealPath, other.Id.RealPath)) || (folder && IsInside(other.Id.RealPath, id.RealPath)))
                throw new OutputRefusedException($"{what} '{path}' and {other.What} '{other.Path}' would write the same place: give each output its own path.");
        }
        _outputs.Add((what, path, id, folder));
        return this;
    }

    /// <summary>Inputs that would be overwritten by the named files inside an output folder (a run folder's fixed
    /// file names, say): refused like a direct clash.</summary>
    public RunOutputs FilesInFolder(string what, string folder, IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            var id = FileIdentity.Of(Path.Combine(folder, name));
            foreach (var input in _inputs)
                if (id.SameFileAs(input.Id))
                    throw new OutputRefusedException($"{what} '{folder}' would overwrite the {input.What} ({name}): choose another folder.");
        }
        return this;
    }

    /// <summary>Locks every output for the run (see <see cref="OutputLock"/>); dispose the result when the run ends.</summary>
    public IDisposable Claim()
    {
        var locks = new List<OutputLock>();
        try
        {
            foreach (var o in _outputs) locks.Add(OutputLock.Acquire(o.Path, $"{o.What} '{o.Path}'"));
        }
        catch
        {
            foreach (var l in locks) l.Dispose();
            throw;
        }
        return new Claims(locks);
    }

    private static bool IsInside(string path, string folder)
    {
        var f = folder.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return path.StartsWith(f, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    private sealed class Claims(List<OutputLock> locks) : IDisposable
    {
        public void Dispose()
        {
            foreach (var l in locks) l.Dispose();
        }
    }
}
