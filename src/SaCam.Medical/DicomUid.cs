using System.Numerics;

namespace SaCam.Medical;

/// <summary>
/// New DICOM UIDs under the root 2.25 (PS3.5 B.2): "2.25." and a random UUID as one decimal integer. No organisation
/// root needs registering, and two runs anywhere never collide.
/// </summary>
public static class DicomUid
{
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
        return "2.25." + new BigInteger(bytes, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
