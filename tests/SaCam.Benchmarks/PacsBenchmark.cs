using System.Diagnostics;
using System.Globalization;
using System.Text;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Medical;
using SaCam.Tests;

namespace SaCam.Benchmarks;

/// <summary>
/// PACS round trip on a private Orthanc, on a 512x512 CT series the benchmark writes and uploads itself. Fetch:
/// slices per second of sacam's DICOMweb source (WADO-RS into a private folder, headers read and ordered) against a
/// plain WADO-RS download of the same series by curl, and of its DIMSE source against getscu alone, interleaved rounds. Write-back: the same gradcam run without
/// and with --dicom-out (and with --store-to by C-STORE), interleaved, the run alone timed (model loaded before).
/// </summary>
public sealed class PacsBenchmark
{
    public string Run(int slices, int rounds)
    {
        var folder = Directory.CreateTempSubdirectory("sacam-bench-pacs-").FullName;
        using var orthanc = new PrivateOrthanc();
        string? auth = Environment.GetEnvironmentVariable(DicomWebAddress.AuthVariable);
        Environment.SetEnvironmentVariable(DicomWebAddress.AuthVariable, $"{PrivateOrthanc.User}:{PrivateOrthanc.Password}");
        try
        {
            var data = new DicomTestData(Path.Combine(folder, "series"));
            var files = data.Series(slices, size: 512);
            orthanc.StoreScu(files);
            string url = $"{orthanc.DicomWebRoot}/studies/{DicomTestData.CanaryStudyUid}/series/1.2.826.0.1.3680043.9.9999.1";
            string dimse = $"dimse:{PrivateOrthanc.Aet}@127.0.0.1:{orthanc.DicomPort}/studies/{DicomTestData.CanaryStudyUid}/series/1.2.826.0.1.3680043.9.9999.1";
            var curl = new List<double>();
            var ours = new List<double>();
            var getscu = new List<double>();
            var oursDimse = new List<double>();
            for (int r = 0; r < rounds + 1; r++) // the first round warms every path up and is not counted
            {
                double c = Curl(url, Path.Combine(folder, "curl.out")), o = Fetch("dicomweb:" + url);
                double g = GetScu(orthanc, Path.Combine(folder, $"getscu-{r}")), d = Fetch(dimse);
                if (r == 0) continue;
                curl.Add(c);
                ours.Add(o);
                getscu.Add(g);
                oursDimse.Add(d);
            }
            var runs = new Dictionary<string, List<double>> { ["without"] = [], ["--dicom-out"] = [], ["--dicom-out --store-to C-STORE"] = [] };
            for (int r = 0; r < rounds; r++)
            {
                runs["without"].Add(Explain(data.Folder, null, null));
                runs["--dicom-out"].Add(Explain(data.Folder, Path.Combine(folder, $"out-{r}"), null));
                runs["--dicom-out --store-to C-STORE"].Add(Explain(data.Folder, Path.Combine(folder, $"store-{r}"), $"{PrivateOrthanc.Aet}@127.0.0.1:{orthanc.DicomPort}"));
            }
            var text = new StringBuilder();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Orthanc 1.10 (Debian) on 127.0.0.1, a {slices}-slice 512x512 CT series (16-bit, uncompressed, {new FileInfo(files[0]).Length / 1024} KiB a slice), {rounds} interleaved rounds after one warm-up.\n"));
            text.AppendLine("### Fetching the series (WADO-RS and C-GET)\n");
            text.AppendLine("| path | slices per second (median) | ratio to curl |");
            text.AppendLine("| --- | ---: | ---: |");
            double curlRate = slices / Median(curl), ourRate = slices / Median(ours);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| curl, the multipart answer to a file (no parsing) | {curlRate:F0} | 1.00x |"));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| sacam's DICOMweb source: HttpClient, MultipartReader, one file per instance, headers read and ordered | {ourRate:F0} | {ourRate / curlRate:F2}x |"));
            double getRate = slices / Median(getscu), dimseRate = slices / Median(oursDimse);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| getscu alone (C-GET of the series into a folder) | {getRate:F0} | {getRate / curlRate:F2}x |"));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| sacam's DIMSE source: getscu, then the headers read and ordered | {dimseRate:F0} | {dimseRate / curlRate:F2}x ({dimseRate / getRate:F2}x getscu) |"));
            text.AppendLine();
            text.AppendLine("### Writing the explanations back (gradcam, default model, the run alone)\n");
            text.AppendLine("| run | seconds (median) | ms per slice added | ratio to without | goal |");
            text.AppendLine("| --- | ---: | ---: | ---: | --- |");
            double baseline = Median(runs["without"]);
            foreach (var (name, times) in runs)
            {
                double t = Median(times);
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {t:F2} | {(name == "without" ? "" : $"{(t - baseline) * 1000 / slices:F1}")} | {t / baseline:F2}x | {(name == "without" ? "" : "<= 1.10x")} |"));
            }
            return text.ToString();
        }
        finally
        {
            Environment.SetEnvironmentVariable(DicomWebAddress.AuthVariable, auth);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Curl(string url, string output)
    {
        var clock = Stopwatch.StartNew();
        DicomTestData.Tool("curl", "-s", "-f", "-o", output, "-u", $"{PrivateOrthanc.User}:{PrivateOrthanc.Password}",
            "-H", "Accept: multipart/related; type=\"application/dicom\"; transfer-syntax=*", url);
        return clock.Elapsed.TotalSeconds;
    }

    private static double Fetch(string address)
    {
        var clock = Stopwatch.StartNew();
        using var source = DimseFetcher.Is(address)
            ? DicomSource.OpenDimse(address, new MedicalOptions { Window = "soft" }, _ => { })
            : DicomSource.OpenDicomWeb(address, new MedicalOptions { Window = "soft" }, _ => { });
        return clock.Elapsed.TotalSeconds;
    }

    private static double GetScu(PrivateOrthanc orthanc, string folder)
    {
        Directory.CreateDirectory(folder);
        var clock = Stopwatch.StartNew();
        DicomTestData.Tool("getscu", "-aet", StoreScuStore.CallingAet, "-aec", PrivateOrthanc.Aet, "127.0.0.1", orthanc.DicomPort.ToString(CultureInfo.InvariantCulture),
            "-k", "QueryRetrieveLevel=SERIES", "-k", $"StudyInstanceUID={DicomTestData.CanaryStudyUid}", "-k", "SeriesInstanceUID=1.2.826.0.1.3680043.9.9999.1", "-od", folder);
        return clock.Elapsed.TotalSeconds;
    }

    private static double Explain(string series, string? dicomOut, string? storeTo)
    {
        var spec = new VideoRunSpec
        {
            Source = series, Method = new MethodSpec { Id = "gradcam" }, Medical = new MedicalSpec { Window = "soft" },
            Outputs = new VideoOutputs { DicomOut = dicomOut, StoreTo = storeTo },
        };
        using var run = VideoRun.Build(spec, SilentFeedback.Instance);
        var clock = Stopwatch.StartNew();
        var result = run.Run();
        if (result.Error is not null) throw result.Error;
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
