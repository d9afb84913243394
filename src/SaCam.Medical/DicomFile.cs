namespace SaCam.Medical;

/// <summary>DICOM Part 10 files are recognised by their content, not their name: 128 bytes of preamble, then "DICM".</summary>
public static class DicomFile
{
    public static bool IsDicom(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length < 132) return false;
            Span<byte> header = stackalloc byte[132];
            stream.ReadExactly(header);
            return header[128] == 'D' && header[129] == 'I' && header[130] == 'C' && header[131] == 'M';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>True when the path is a DICOM file or a folder holding at least one (the CLI's test for a medical source).</summary>
    public static bool IsDicomSource(string path) =>
        File.Exists(path) ? IsDicom(path) : Directory.Exists(path) && Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Take(200).Any(IsDicom);
}
