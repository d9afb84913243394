using System.Text.Json;
using System.Text.Json.Serialization;

namespace SaCam.App.Specs;

/// <summary>The JSON form of every spec: snake_case names, enums as their names, nulls left out. A fleet plan stores
/// a <see cref="VideoRunSpec"/> this way; anything may save and reload a spec and get the same run.</summary>
public static class SpecJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static string Write<T>(T spec) => JsonSerializer.Serialize(spec, Options);

    public static JsonElement ToElement<T>(T spec) => JsonSerializer.SerializeToElement(spec, Options);

    /// <summary>Reads a spec; a field that is unknown, missing or of the wrong type is an error naming it.</summary>
    public static T Read<T>(string json) where T : class =>
        Wrap(() => JsonSerializer.Deserialize<T>(json, Options)) ?? throw new InvalidDataException($"The {typeof(T).Name} is empty (null).");

    public static T Read<T>(JsonElement json) where T : class =>
        Wrap(() => json.Deserialize<T>(Options)) ?? throw new InvalidDataException($"The {typeof(T).Name} is empty (null).");

    private static T? Wrap<T>(Func<T?> read)
    {
        try { return read(); }
        catch (JsonException e) { throw new InvalidDataException($"Not a valid {typeof(T).Name}: {e.Message}", e); }
    }
}
