using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace SaCam.Medical;

/// <summary>
/// A DICOMweb address: the service root (http://HOST:PORT/ROOT) and, for a source, the study and series. Messages
/// name the server by its root only: study and series UIDs are patient identifiers (PS3.15 Annex E) and stay out of
/// every message. Credentials never go in the URL; they come from <see cref="AuthVariable"/>.
/// </summary>
public sealed record DicomWebAddress(Uri Root, string? Study = null, string? Series = null)
{
    public const string Scheme = "dicomweb:";
    /// <summary>The Authorization header's value ("Bearer TOKEN" or "Basic BASE64"), or USER:PASSWORD for basic auth.</summary>
    public const string AuthVariable = "SACAM_DICOMWEB_AUTH";

    public static bool Is(string text) => text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses dicomweb:http://HOST:PORT/ROOT[/studies/S/series/SE]; <paramref name="seriesRequired"/> for a source.</summary>
    public static DicomWebAddress Parse(string text, bool seriesRequired)
    {
        string what = seriesRequired ? "a DICOMweb source" : "--store-to dicomweb:";
        string form = seriesRequired ? "dicomweb:http://HOST:PORT/ROOT/studies/STUDY_UID/series/SERIES_UID" : "dicomweb:http://HOST:PORT/ROOT";
        if (!Is(text) || !Uri.TryCreate(text[Scheme.Length..], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw new ArgumentException($"{what}: not a DICOMweb address; use {form}.");
        if (uri.UserInfo.Length > 0)
            throw new ArgumentException($"{what}: credentials do not go in the address (they would show in process lists and logs); put them in the environment variable {AuthVariable}.");
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0) throw new ArgumentException($"{what}: the address takes no query or fragment; use {form}.");
        var parts = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToList();
        int studies = parts.FindLastIndex(p => p == "studies");
        string? study = null, series = null;
        if (studies >= 0)
        {
            if (parts.Count != studies + 4 || parts[studies + 2] != "series" || !IsUid(parts[studies + 1]) || !IsUid(parts[studies + 3]))
                throw new ArgumentException($"{what}: the address must end in /studies/STUDY_UID/series/SERIES_UID (UIDs are digits and dots); use {form}.");
            (study, series) = (parts[studies + 1], parts[studies + 3]);
            parts = parts[..studies];
        }
        if (seriesRequired && series is null) throw new ArgumentException($"{what}: the address names no series; use {form}.");
        if (!seriesRequired && series is not null) throw new ArgumentException($"{what}: give the service root, without /studies/...; use {form}.");
        var root = new UriBuilder(uri.Scheme, uri.Host, uri.Port, "/" + string.Join('/', parts.Select(Uri.EscapeDataString))).Uri;
        return new DicomWebAddress(root, study, series);
    }

    private static bool IsUid(string text) => text.Length is > 0 and <= 64 && text.All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>How messages name the server: its root, without study or series.</summary>
    public string Server => Root.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public Uri SeriesUri => new($"{Server}/studies/{Study}/series/{Series}");
    public Uri StudiesUri => new($"{Server}/studies");

    /// <summary>The Authorization header from <see cref="AuthVariable"/>, or null.</summary>
    public static AuthenticationHeaderValue? Authorization(Func<string, string?>? environment = null)
    {
        string? value = (environment ?? Environment.GetEnvironmentVariable)(AuthVariable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        value = value.Trim();
        int space = value.IndexOf(' ');
        if (space > 0 && value[..space] is "Bearer" or "Basic") return new AuthenticationHeaderValue(value[..space], value[(space + 1)..].Trim());
        if (value.Contains(':')) return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(value)));
        return new AuthenticationHeaderValue("Bearer", value);
    }

    /// <summary>One HttpClient per use, with the credentials and no overall timeout: stalls are caught per read.</summary>
    internal HttpClient Client()
    {
        var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15), AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.Authorization = Authorization();
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("sacam", "1"));
        return client;
    }

    /// <summary>What an HTTP error status means for this server, in one line (no UIDs, no credentials).</summary>
    internal string Explain(HttpStatusCode status, string doing) => (int)status switch
    {
        401 or 403 => $"DICOMweb server {Server} refused {doing} (HTTP {(int)status} {status}): set its credentials in {AuthVariable}.",
        404 => $"DICOMweb server {Server} answered HTTP 404 Not Found while {doing}: no such study or series, or a wrong service root.",
        _ => $"DICOMweb server {Server} answered HTTP {(int)status} {status} while {doing}.",
    };

    /// <summary>A transport failure in one line: refused, unreachable, reset.</summary>
    internal string Explain(HttpRequestException e, string doing) =>
        $"DICOMweb server {Server} could not be reached while {doing}: {(e.HttpRequestError == HttpRequestError.ConnectionError ? "the connection was refused or failed (is the server running?)" : e.HttpRequestError.ToString())}.";
}
