using System.Net;
using System.Net.Sockets;
using System.Text;
using SaCam.Medical;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// PACS to PACS on a real private Orthanc (started on free ports, stopped by its pid): a series uploaded by storescu,
/// explained from DICOMweb with --dicom-out and --store-to, checked through Orthanc's REST API and dciodvfy; the maps
/// equal those of the same series read from disk; bad addresses, a wrong study, a stopped server, refused stores
/// and wrong credentials give one clear line and the documented exit code; patient data and the password reach no
/// output but the DICOM itself, and no fetched file is left behind.
/// </summary>
[TestFixture]
[NonParallelizable]
[NeedsPrograms("dcmtk", "dump2dcm", "dcmdump", "dcmj2pnm", "img2dcm", "storescu")]
public class PacsTests : TempFolderTest
{
    private const string Series = "1.2.826.0.1.3680043.9.9999.1";
    private PrivateOrthanc? _orthanc;

    [OneTimeSetUp]
    public void StartOrthanc()
    {
        if (!PrivateOrthanc.Installed) Requirement.Missing("Orthanc with its DICOMweb plugin", "apt-get install orthanc orthanc-dicomweb");
        if (!Requirement.OnPath("dciodvfy")) Requirement.Missing("dciodvfy", "apt-get install dicom3tools");
        _orthanc = new PrivateOrthanc();
    }

    [OneTimeTearDown]
    public void StopOrthanc() => _orthanc?.Dispose();

    private PrivateOrthanc Orthanc => _orthanc!;
    private string SeriesUrl(string study = DicomTestData.CanaryStudyUid, string series = Series) => $"dicomweb:{Orthanc.DicomWebRoot}/studies/{study}/series/{series}";

    private static (int Exit, string Out, string Err) Sacam(string? auth, params string[] args)
    {
        string? before = Environment.GetEnvironmentVariable(DicomWebAddress.AuthVariable);
        Environment.SetEnvironmentVariable(DicomWebAddress.AuthVariable, auth);
        try { return SacamInProcess.Run(args); }
        finally { Environment.SetEnvironmentVariable(DicomWebAddress.AuthVariable, before); }
    }

    private static string Auth => $"{PrivateOrthanc.User}:{PrivateOrthanc.Password}";

    private static int LeftBehind() => Directory.GetDirectories(Path.GetTempPath(), "sacam-dicomweb-*").Length + Directory.GetDirectories(Path.GetTempPath(), "sacam-dicom-out-*").Length;

    private IReadOnlyList<string> Upload(string folderName)
    {
        var data = new DicomTestData(Path.Combine(Dir, folderName));
        var files = data.Series(4);
        Orthanc.StoreScu(files);
        return files;
    }

    [Test]
    public void A_series_from_dicomweb_is_explained_as_from_disk_and_written_back_beside_the_original()
    {
        var files = Upload("CANARYNAME_SECRET_PATIENT");
        int leftBefore = LeftBehind();
        string outputs = Path.Combine(Dir, "out"), dicomOut = Path.Combine(Dir, "dicom-out");
        var web = Sacam(Auth, "video", SeriesUrl(), "--model", "default", "--method", "gradcam", "--window", "soft",
            "--dicom-out", dicomOut, "--store-to", $"{PrivateOrthanc.Aet}@127.0.0.1:{Orthanc.DicomPort}",
            "--save-maps", Path.Combine(outputs, "maps"), "--run", Path.Combine(outputs, "run"), "--jsonl", Path.Combine(outputs, "frames.jsonl"));
        Assert.That(web.Exit, Is.Zero, web.Err);
        var disk = Sacam(null, "video", Path.GetDirectoryName(files[0])!, "--model", "default", "--method", "gradcam", "--window", "soft", "--save-maps", Path.Combine(Dir, "disk-maps"));
        Assert.That(disk.Exit, Is.Zero, disk.Err);

        // The same maps, bit for bit, in the same order.
        for (int i = 0; i < 4; i++)
            Assert.That(File.ReadAllBytes(Path.Combine(outputs, "maps", $"{i:D6}.npy")), Is.EqualTo(File.ReadAllBytes(Path.Combine(Dir, "disk-maps", $"{i:D6}.npy"))), $"map {i}");
        Assert.That(LeftBehind(), Is.EqualTo(leftBefore), "the fetched instances are removed");

        // In Orthanc: a new series in the same study, one instance per frame, each referencing its source instance.
        var study = Orthanc.Get("studies").AsArray().Select(s => Orthanc.Get($"studies/{s}"))
            .Single(s => (string?)s["MainDicomTags"]!["StudyInstanceUID"] == DicomTestData.CanaryStudyUid);
        var series = study["Series"]!.AsArray().Select(s => Orthanc.Get($"series/{s}")).ToList();
        var derived = series.Where(s => (string?)s["MainDicomTags"]!["SeriesInstanceUID"] != Series).ToList();
        Assert.That(derived, Has.Count.EqualTo(1));
        Assert.That((string?)derived[0]["MainDicomTags"]!["SeriesDescription"], Does.Contain("gradcam"));
        var sourceUids = series.Single(s => (string?)s["MainDicomTags"]!["SeriesInstanceUID"] == Series)["Instances"]!.AsArray()
            .Select(i => (string)Orthanc.Get($"instances/{i}/simplified-tags")["SOPInstanceUID"]!).ToHashSet();
        var instances = derived[0]["Instances"]!.AsArray().Select(i => Orthanc.Get($"instances/{i}/tags?simplify")).ToList();
        Assert.That(instances, Has.Count.EqualTo(4));
        var referenced = instances.Select(t => (string)t["SourceImageSequence"]!.AsArray()[0]!["ReferencedSOPInstanceUID"]!).ToList();
        Assert.That(referenced, Is.Unique.And.All.Matches<string>(sourceUids.Contains));
        Assert.That(instances.Select(t => (string)t["SOPClassUID"]!), Has.All.EqualTo("1.2.840.10008.5.1.4.1.1.7"), "Secondary Capture");
        Assert.That(instances.Select(t => (string)t["PatientName"]!), Has.All.EqualTo(DicomTestData.CanaryName), "filed under the source's patient");
        Assert.That(instances.Select(t => (string)t["SOPInstanceUID"]!), Has.All.StartWith("2.25."));

        // Each object is valid under dciodvfy (warnings are listed in docs/pacs.md).
        var written = Directory.GetFiles(dicomOut, "*.dcm");
        Assert.That(written, Has.Length.EqualTo(4));
        foreach (var file in written)
        {
            string report = Dciodvfy(file);
            Assert.That(report, Does.Contain("SCImage").And.Not.Contain("Error"), $"{Path.GetFileName(file)}:\n{report}");
        }

        // Privacy: every output but the DICOM written back, and the console, carry no patient data, path or password.
        var forbidden = DicomTestData.Canaries.Append("CANARYNAME_SECRET_PATIENT").Append(PrivateOrthanc.Password).Append(Series).ToList();
        foreach (var file in Directory.GetFiles(outputs, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
            foreach (var canary in forbidden) Assert.That(text, Does.Not.Contain(canary), $"{Path.GetRelativePath(outputs, file)} holds '{canary}'");
        }
        foreach (var canary in forbidden) Assert.That(web.Out + web.Err, Does.Not.Contain(canary), "console");
    }

    [Test]
    [NeedsPrograms("dcmtk", "getscu")]
    public void A_series_by_dimse_c_get_is_explained_as_from_disk()
    {
        var files = Upload("cget");
        int leftBefore = LeftBehind();
        string address = $"dimse:{PrivateOrthanc.Aet}@127.0.0.1:{Orthanc.DicomPort}/studies/{DicomTestData.CanaryStudyUid}/series/{Series}";
        var dimse = Sacam(null, "video", address, "--model", "default", "--method", "gradcam", "--window", "soft", "--save-maps", Path.Combine(Dir, "dimse-maps"));
        Assert.That(dimse.Exit, Is.Zero, dimse.Err);
        var disk = Sacam(null, "video", Path.GetDirectoryName(files[0])!, "--model", "default", "--method", "gradcam", "--window", "soft", "--save-maps", Path.Combine(Dir, "disk-maps"));
        Assert.That(disk.Exit, Is.Zero, disk.Err);
        for (int i = 0; i < 4; i++)
            Assert.That(File.ReadAllBytes(Path.Combine(Dir, "dimse-maps", $"{i:D6}.npy")), Is.EqualTo(File.ReadAllBytes(Path.Combine(Dir, "disk-maps", $"{i:D6}.npy"))), $"map {i}");
        Assert.That(LeftBehind(), Is.EqualTo(leftBefore));
        foreach (var canary in DicomTestData.Canaries.Append(Series)) Assert.That(dimse.Out + dimse.Err, Does.Not.Contain(canary), "console");

        var wrongStudy = Sacam(null, "video", $"dimse:{PrivateOrthanc.Aet}@127.0.0.1:{Orthanc.DicomPort}/studies/1.2.3.4/series/5.6", "--method", "gradcam");
        Assert.That(wrongStudy.Exit, Is.EqualTo(1));
        Assert.That(wrongStudy.Err, Does.Contain("C-GET").And.Not.Contain("1.2.3.4"));
        var stopped = Sacam(null, "video", $"dimse:{PrivateOrthanc.Aet}@127.0.0.1:{PrivateOrthanc.FreePort()}/studies/1.2/series/3.4", "--method", "gradcam");
        Assert.That(stopped.Exit, Is.EqualTo(1));
        Assert.That(stopped.Err, Does.Contain("connection refused"));
        Assert.That(LeftBehind(), Is.EqualTo(leftBefore), "nothing left behind after a failed C-GET");
    }

    [Test]
    public void Stow_rs_stores_a_series_read_from_disk()
    {
        var files = Upload("stow");
        int before = Orthanc.Get("series").AsArray().Count, leftBefore = LeftBehind();
        var run = Sacam(Auth, "video", Path.GetDirectoryName(files[0])!, "--model", "default", "--method", "gradcam", "--window", "soft", "--max-frames", "2",
            "--store-to", $"dicomweb:{Orthanc.DicomWebRoot}");
        Assert.That(run.Exit, Is.Zero, run.Err);
        Assert.That(Orthanc.Get("series").AsArray(), Has.Count.EqualTo(before + 1));
        Assert.That(LeftBehind(), Is.EqualTo(leftBefore), "the temporary copy for a store without --dicom-out is removed");
        Assert.That(run.Out + run.Err, Does.Not.Contain(PrivateOrthanc.Password));
    }

    [Test]
    public void Bad_addresses_missing_studies_stopped_servers_and_refused_stores_are_one_clear_line()
    {
        var files = Upload("errors");
        string folder = Path.GetDirectoryName(files[0])!;
        int leftBefore = LeftBehind();
        (int Exit, string Err) Run(string? auth, params string[] args) { var r = Sacam(auth, args); return (r.Exit, r.Err); }

        var badUrl = Run(Auth, "video", $"dicomweb:{Orthanc.DicomWebRoot}/studies/x/series/1.2");
        Assert.That(badUrl, Is.EqualTo((2, badUrl.Err)));
        Assert.That(badUrl.Err, Does.Contain("must end in /studies/STUDY_UID/series/SERIES_UID"));

        var wrongStudy = Run(Auth, "video", SeriesUrl(study: "1.2.3.4"), "--method", "gradcam");
        Assert.That(wrongStudy.Exit, Is.EqualTo(1));
        Assert.That(wrongStudy.Err, Does.Contain("HTTP 404").And.Contain("no such study or series").And.Not.Contain("1.2.3.4"));

        var wrongPassword = Run("sacam:wrong", "video", SeriesUrl(), "--method", "gradcam");
        Assert.That(wrongPassword.Exit, Is.EqualTo(1));
        Assert.That(wrongPassword.Err, Does.Contain("HTTP 401").And.Contain(DicomWebAddress.AuthVariable).And.Not.Contain("wrong"));

        var stopped = Run(Auth, "video", $"dicomweb:http://127.0.0.1:{PrivateOrthanc.FreePort()}/dicom-web/studies/1.2/series/3.4", "--method", "gradcam");
        Assert.That(stopped.Exit, Is.EqualTo(1));
        Assert.That(stopped.Err, Does.Contain("could not be reached").And.Contain("is the server running?"));

        var inUrl = Run(null, "video", $"dicomweb:http://sacam:{PrivateOrthanc.Password}@127.0.0.1:{Orthanc.HttpPort}/dicom-web/studies/1.2/series/3.4");
        Assert.That(inUrl.Exit, Is.EqualTo(2));
        Assert.That(inUrl.Err, Does.Contain("credentials do not go in the address").And.Not.Contain(PrivateOrthanc.Password));

        // A store refused by the PACS (an AE title it does not answer to): exit 1 naming its answer; --dicom-out stays.
        string kept = Path.Combine(Dir, "kept");
        var refused = Run(null, "video", folder, "--model", "default", "--method", "gradcam", "--window", "soft", "--dicom-out", kept, "--store-to", $"NOTORTHANC@127.0.0.1:{Orthanc.DicomPort}");
        Assert.That(refused.Exit, Is.EqualTo(1));
        Assert.That(refused.Err, Does.Contain("rejected the association").And.Contain("Called AE Title Not Recognized"));
        Assert.That(Directory.GetFiles(kept, "*.dcm"), Has.Length.EqualTo(4));

        var stowRefused = Run("sacam:wrong", "video", folder, "--model", "default", "--method", "gradcam", "--window", "soft", "--max-frames", "1", "--store-to", $"dicomweb:{Orthanc.DicomWebRoot}");
        Assert.That(stowRefused.Exit, Is.EqualTo(1));
        Assert.That(stowRefused.Err, Does.Contain("--store-to").And.Contain("HTTP 401"));

        var notDicom = Run(null, "video", Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"), "--dicom-out", Path.Combine(Dir, "x"), "--max-frames", "1");
        Assert.That(notDicom.Exit, Is.EqualTo(2));
        Assert.That(notDicom.Err, Does.Contain("--dicom-out and --store-to write DICOM derived from a DICOM source"));
        Assert.That(LeftBehind(), Is.EqualTo(leftBefore), "nothing fetched or written for a store is left behind");
    }

    private static string Dciodvfy(string file)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dciodvfy", [file]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output + err.Result;
    }
}

/// <summary>Servers that misbehave, on a local socket: one that never answers, one that sends an empty series, one
/// that answers with a web page.</summary>
[TestFixture]
public class DicomWebFetcherTests
{
    private static (Task Server, int Port) Serve(string? response, CancellationToken stop)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync(stop);
                var stream = client.GetStream();
                _ = await stream.ReadAtLeastAsync(new byte[8192], 1, throwOnEndOfStream: false, stop); // the request, unread
                if (response is not null) await stream.WriteAsync(Encoding.ASCII.GetBytes(response), stop);
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException) { }
            finally { listener.Stop(); }
        }, CancellationToken.None);
        return (server, port);
    }

    private static string Fetch(string? response, double timeoutS = 1)
    {
        using var stop = new CancellationTokenSource();
        var (server, port) = Serve(response, stop.Token);
        int before = Directory.GetDirectories(Path.GetTempPath(), "sacam-dicomweb-*").Length;
        try
        {
            var address = DicomWebAddress.Parse($"dicomweb:http://127.0.0.1:{port}/dicom-web/studies/1.2/series/3.4", seriesRequired: true);
            var e = Assert.Throws<PacsException>(() => new DicomWebFetcher(address) { IdleTimeout = TimeSpan.FromSeconds(timeoutS) }.Fetch())!;
            Assert.That(Directory.GetDirectories(Path.GetTempPath(), "sacam-dicomweb-*"), Has.Length.EqualTo(before), "nothing left behind");
            return e.Message;
        }
        finally
        {
            stop.Cancel();
            server.Wait(5000);
        }
    }

    [Test]
    public void A_server_that_stalls_is_given_up() =>
        Assert.That(Fetch(null), Does.Contain("sent nothing for 1 s").And.Contain("http://127.0.0.1"));

    [Test]
    public void An_empty_series_is_told() =>
        Assert.That(Fetch("HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=b\r\nContent-Length: 7\r\nConnection: close\r\n\r\n--b--\r\n"),
            Does.Contain("the series is empty"));

    [Test]
    public void A_web_page_instead_of_dicom_is_told() =>
        Assert.That(Fetch("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"),
            Does.Contain("answered with text/html, not multipart/related DICOM"));

    [Test]
    public void Credentials_come_from_the_environment_in_either_form()
    {
        Assert.That(DicomWebAddress.Authorization(_ => "Bearer abc")!.ToString(), Is.EqualTo("Bearer abc"));
        Assert.That(DicomWebAddress.Authorization(_ => "tok123")!.ToString(), Is.EqualTo("Bearer tok123"));
        Assert.That(DicomWebAddress.Authorization(_ => "u:p")!.ToString(), Is.EqualTo("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u:p"))));
        Assert.That(DicomWebAddress.Authorization(_ => null), Is.Null);
        Assert.That(() => DicomStores.Parse("ORTHANC@host:99999"), Throws.TypeOf<ArgumentException>().With.Message.Contains("AET@HOST:PORT"));
        Assert.That(DicomStores.Parse("ORTHANC@pacs.local:4242"), Is.TypeOf<StoreScuStore>());
        Assert.That(DicomStores.Parse("dicomweb:https://pacs/dicom-web"), Is.TypeOf<StowRsStore>());
    }
}

/// <summary>--dicom-out without a PACS: a cine's frames each reference their frame, a burned-in flag is carried
/// over, the pixels are the blend (colour), and dciodvfy finds no error.</summary>
[TestFixture]
[NeedsPrograms("dcmtk dicom3tools", "dump2dcm", "dcmdump", "dcmj2pnm", "img2dcm", "dciodvfy")]
public class DicomOutTests : TempFolderTest
{
    [Test]
    public void A_cine_is_written_back_frame_by_frame_with_its_flags()
    {
        var data = new DicomTestData(Path.Combine(Dir, "in"));
        string cine = data.Write("cine", new DicomTestData.Slice { Frames = 3, FrameTimeMs = 40, BurnedIn = true, Hu = (f, x, y) => (short)(x * 10 + f * 100) });
        string output = Path.Combine(Dir, "dicom");
        var (exit, _, stderr) = SacamInProcess.Run("video", cine, "--model", "default", "--method", "gradcam", "--window", "0,1000", "--dicom-out", output);
        Assert.That(exit, Is.Zero, stderr);
        var files = Directory.GetFiles(output).Order(StringComparer.Ordinal).ToList();
        Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "000000.dcm", "000001.dcm", "000002.dcm" }), "no temporary file left");
        for (int i = 0; i < files.Count; i++)
        {
            string dump = Tool("dcmdump", files[i]);
            // The test's cine is of CT Image Storage, a single-frame class by definition: no Referenced Frame Number.
            Assert.That(dump, Does.Contain("(0008,1155) UI [").And.Not.Contain("(0008,1160)"), "ReferencedSOPInstanceUID, and no frame number");
            Assert.That(dump, Does.Contain("(0028,0301) CS [YES]"), "the source's burned-in flag: its pixels are in the blend");
            Assert.That(dump, Does.Contain("(0028,0004) CS [RGB]").And.Contain("=SecondaryCaptureImageStorage"));
            Assert.That(dump, Does.Contain("(0008,103e) LO [CAM gradcam, top class, default]"));
            string report = Tool("dciodvfy", files[i]);
            Assert.That(report, Does.Contain("SCImage").And.Not.Contain("Error"), report);
        }
        Assert.That(SecondaryCaptureWriter.ReferencesFrames(new DicomHeader { File = "x", Frames = 30, SopClassUid = "1.2.840.10008.5.1.4.1.1.3.1" }), Is.True, "US multi-frame");
        Assert.That(SecondaryCaptureWriter.ReferencesFrames(new DicomHeader { File = "x", Frames = 1, SopClassUid = "1.2.840.10008.5.1.4.1.1.3.1" }), Is.False);
        // The pixels decode as colour: the heat map is blended in, not a grey slice.
        string png = Path.Combine(Dir, "frame.png");
        Tool("dcmj2pnm", "-ll", "error", "+on", files[0], png);
        using var image = OpenCvSharp.Cv2.ImRead(png);
        var channels = OpenCvSharp.Cv2.Split(image);
        Assert.That(OpenCvSharp.Cv2.Norm(channels[0], channels[2], OpenCvSharp.NormTypes.L1), Is.GreaterThan(0));
        foreach (var c in channels) c.Dispose();
    }

    private static string Tool(string program, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output + err.Result;
    }
}
