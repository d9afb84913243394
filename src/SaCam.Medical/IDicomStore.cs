namespace SaCam.Medical;

/// <summary>A PACS that takes DICOM files: by DIMSE C-STORE (<see cref="StoreScuStore"/>) or DICOMweb STOW-RS.</summary>
public interface IDicomStore
{
    /// <summary>Sends the files; a refusal is a <see cref="PacsException"/> naming the server's status.</summary>
    void Store(IReadOnlyList<string> files);
}

/// <summary>A PACS answered with an error, refused, or did not answer: the message names the server (never the
/// credentials) and what it said. An I/O failure of the run (exit 1), not a wrong command line.</summary>
public sealed class PacsException(string message) : IOException(message);
