using System.Text;

namespace SaCam.Core.Onnx;

/// <summary>
/// A minimal protocol-buffers wire-format reader: just enough to read ONNX files without generated code.
/// Each message is read field by field; unknown fields are skipped, as protobuf requires.
/// </summary>
internal sealed class ProtoReader
{
    private readonly byte[] _buffer;
    private int _position;
    private readonly int _end;

    public ProtoReader(byte[] buffer) : this(buffer, 0, buffer.Length) { }

    private ProtoReader(byte[] buffer, int start, int end)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
    }

    public bool AtEnd => _position >= _end;

    /// <summary>Reads the next field key; returns its number and wire type.</summary>
    public (int Field, WireType Type) ReadKey()
    {
        ulong key = ReadVarint();
        return ((int)(key >> 3), (WireType)(key & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("Malformed varint in protobuf stream.");
    }

    public long ReadInt64() => (long)ReadVarint();

    public float ReadFixed32Float()
    {
        Require(4);
        float value = BitConverter.ToSingle(_buffer, _position);
        _position += 4;
        return value;
    }

    public double ReadFixed64Double()
    {
        Require(8);
        double value = BitConverter.ToDouble(_buffer, _position);
        _position += 8;
        return value;
    }

    public ReadOnlyMemory<byte> ReadBytes()
    {
        int length = ReadLength();
        var slice = new ReadOnlyMemory<byte>(_buffer, _position, length);
        _position += length;
        return slice;
    }

    public string ReadString()
    {
        int length = ReadLength();
        string s = Encoding.UTF8.GetString(_buffer, _position, length);
        _position += length;
        return s;
    }

    /// <summary>Returns a reader over the embedded message that follows, and moves past it.</summary>
    public ProtoReader ReadMessage()
    {
        int length = ReadLength();
        var sub = new ProtoReader(_buffer, _position, _position + length);
        _position += length;
        return sub;
    }

    /// <summary>Reads a repeated varint field, packed (length-delimited) or not.</summary>
    public void ReadInt64s(WireType type, List<long> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var packed = ReadMessage();
            while (!packed.AtEnd) into.Add(packed.ReadInt64());
        }
        else into.Add(ReadInt64());
    }

    /// <summary>Reads a repeated float field, packed or not.</summary>
    public void ReadFloats(WireType type, List<float> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var packed = ReadMessage();
            while (!packed.AtEnd) into.Add(packed.ReadFixed32Float());
        }
        else into.Add(ReadFixed32Float());
    }

    /// <summary>Reads a repeated double field, packed or not.</summary>
    public void ReadDoubles(WireType type, List<double> into)
    {
        if (type == WireType.LengthDelimited)
        {
            var packed = ReadMessage();
            while (!packed.AtEnd) into.Add(packed.ReadFixed64Double());
        }
        else into.Add(ReadFixed64Double());
    }

    public void Skip(WireType type)
    {
        switch (type)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Require(8); _position += 8; break;
            case WireType.LengthDelimited:
                int length = ReadLength(); // read first: `_position += ReadLength()` would add to the old position
                _position += length;
                break;
            case WireType.Fixed32: Require(4); _position += 4; break;
            default: throw new InvalidDataException($"Unsupported protobuf wire type {(int)type}.");
        }
    }

    private int ReadLength()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
            throw new InvalidDataException("Protobuf field runs past the end of its message (truncated or not an ONNX file).");
        return (int)length;
    }

    private byte ReadByte()
    {
        Require(1);
        return _buffer[_position++];
    }

    private void Require(int count)
    {
        if (_end - _position < count)
            throw new InvalidDataException("Unexpected end of protobuf data (truncated or not an ONNX file).");
    }
}

internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}
