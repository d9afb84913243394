using System.Reactive.Linq;
using System.Text;
using OpenCvSharp;
using SaCam.Medical;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// DICOM sources through DCMTK, on DICOM the tests write themselves (dump2dcm): series order, several series,
/// duplicates, size changes, spacing, windows in HU, MONOCHROME1, cine, compressed variants decoding to identical
/// values, the errors' wording, and patient data absent from every byte of every output.
/// </summary>
[TestFixture]
[NeedsPrograms("dcmtk", "dump2dcm", "dcmdump", "dcmj2pnm")]
public class MedicalTests : TempFolderTest
{
    private static List<VideoFrameCopy> Frames(DicomSource source) =>
        source.Frames().Select(f => { using (f) return new VideoFrameCopy(f.Index, f.Timestamp, f.Image.Clone()); }).ToList().Wait().ToList();

    private sealed record VideoFrameCopy(long Index, TimeSpan Timestamp, Mat Image);

    private static DicomSource Open(string path, MedicalOptions? options = null, List<string>? warnings = null) =>
        DicomSource.Open(path, options ?? new MedicalOptions(), w => warnings?.Add(w));

    [Test]
    public void Dicom_is_known_by_its_content_not_its_name()
    {
        var data = new DicomTestData(Path.Combine(Dir, "d"));
        string dicomNamedPng = data.Write("scan.png", new DicomTestData.Slice());
        string pngNamedDcm = Path.Combine(Dir, "photo.dcm");
        Cv2.ImWrite(pngNamedDcm.Replace(".dcm", ".png"), new Mat(8, 8, MatType.CV_8UC3, Scalar.White));
        File.Move(pngNamedDcm.Replace(".dcm", ".png"), pngNamedDcm);
        Assert.Multiple(() =>
        {
            Assert.That(DicomFile.IsDicom(dicomNamedPng), Is.True);
            Assert.That(DicomFile.IsDicom(pngNamedDcm), Is.False);
            Assert.That(() => Open(pngNamedDcm), Throws.TypeOf<DicomException>().With.Message.Contains("not DICOM"));
        });
    }

    [Test]
    public void A_shuffled_series_comes_in_slice_order_with_exact_hounsfield_units()
    {
        var data = new DicomTestData(Path.Combine(Dir, "series"));
        data.Series(12);
        var source = Open(data.Folder, new MedicalOptions { Window = "-50,400" });
        Assert.That(source.Description, Does.StartWith("CT series, 12 slices (source ").And.Not.Contain(Dir));
        Assert.That(source.Series.PositionsMm, Is.Ordered, "ordered along the normal, not by InstanceNumber (which runs backwards here)");
        var frames = Frames(source);
        Assert.That(frames, Has.Count.EqualTo(12));
        // Slice k's background is HU 10k; window -50,400 maps HU h to 255 * ((h - (-50 - 0.5)) / 399 + 0.5), saturated.
        for (int k = 0; k < 12; k++)
        {
            double expected = Math.Clamp(255 * ((10 * k + 50 + 0.5) / 399 + 0.5), 0, 255);
            Assert.That(frames[k].Image.At<Vec3b>(2, 2).Item0, Is.EqualTo(expected).Within(1), $"slice {k}");
        }
        foreach (var f in frames) f.Image.Dispose();

        // The decoder keeps every bit: the values it returns are the HU written.
        var header = source.Series.Slices[5];
        using var values = new DicomPixelDecoder(new DicomToolkit()).Decode(header, 0, "test")[0];
        Assert.That(values.At<float>(2, 2), Is.EqualTo(50f));
        Assert.That(values.At<float>(32, 32), Is.EqualTo(1050f));
    }

    [Test]
    public void Several_series_are_listed_and_one_is_chosen_by_number()
    {
        var data = new DicomTestData(Path.Combine(Dir, "two"));
        data.Series(3, "a", "1.2.826.0.1.3680043.9.9999.10");
        data.Write("b000", new DicomTestData.Slice { SeriesUid = "1.2.826.0.1.3680043.9.9999.11", Modality = "MR", Description = "T1 AXIAL", SeriesNumber = 7 });
        var e = Assert.Throws<DicomException>(() => Open(data.Folder))!;
        Assert.That(e.Message, Does.Contain("2 series").And.Contain("--series").And.Contain("1: CT series, 3 slices, 64x64").And.Contain("2: MR image (series number 7), 64x64"));
        // The description is free text (people type names into it): never in a listing or anywhere else.
        Assert.That(e.Message, Does.Not.Contain("T1 AXIAL").And.Not.Contain("CANARYDESC"));
        Assert.That(Open(data.Folder, new MedicalOptions { Series = 2 }).Description, Does.StartWith("MR image"));
        Assert.That(() => Open(data.Folder, new MedicalOptions { Series = 3 }), Throws.TypeOf<DicomException>().With.Message.Contains("--series 3"));
    }

    [Test]
    public void Duplicates_size_changes_and_uneven_spacing_are_told()
    {
        var dup = new DicomTestData(Path.Combine(Dir, "dup"));
        dup.Write("x1", new DicomTestData.Slice { InstanceUid = "1.2.3.99", ZMm = 0 });
        dup.Write("x2", new DicomTestData.Slice { InstanceUid = "1.2.3.99", ZMm = 2 });
        Assert.That(() => Open(dup.Folder), Throws.TypeOf<DicomException>().With.Message.Contains("same slice twice"));

        var size = new DicomTestData(Path.Combine(Dir, "size"));
        size.Write("s1", new DicomTestData.Slice { ZMm = 0 });
        size.Write("s2", new DicomTestData.Slice { ZMm = 2, Width = 32, Height = 32 });
        Assert.That(() => Open(size.Folder), Throws.TypeOf<DicomException>().With.Message.Contains("from 64x64 to 32x32"));

        var uneven = new DicomTestData(Path.Combine(Dir, "uneven"));
        uneven.Series(5, z: k => k < 3 ? 2.0 * k : 2.0 * k + 5);
        var warnings = new List<string>();
        Open(uneven.Folder, null, warnings);
        Assert.That(warnings, Has.Some.Contains("not equally spaced"));
    }

    [Test]
    public void Monochrome1_cine_three_windows_and_masks()
    {
        var data = new DicomTestData(Path.Combine(Dir, "misc"));
        string m1 = data.Write("m1", new DicomTestData.Slice { Photometric = "MONOCHROME1", Hu = (_, x, _) => (short)(x < 32 ? -1000 : 1000) });
        var frame = Frames(Open(m1, new MedicalOptions { Window = "0,2000" }))[0].Image;
        Assert.That(frame.At<Vec3b>(10, 5).Item0, Is.GreaterThan(200), "MONOCHROME1: low values display bright");
        Assert.That(frame.At<Vec3b>(10, 50).Item0, Is.LessThan(50));

        string cine = data.Write("cine", new DicomTestData.Slice { Frames = 6, FrameTimeMs = 40, Hu = (f, _, _) => (short)(100 * f) });
        var source = Open(cine, new MedicalOptions { Window = "250,600" });
        Assert.That((source.FrameCount, source.FramesPerSecond), Is.EqualTo(((long?)6, (double?)25)));
        Assert.That(source.Description, Does.StartWith("CT cine, 6 frames"));
        var frames = Frames(source);
        Assert.That(frames.Select(f => (int)f.Image.At<Vec3b>(1, 1).Item0), Is.Ordered.Ascending.And.Unique, "frames in order");
        Assert.That(frames[1].Timestamp, Is.EqualTo(TimeSpan.FromMilliseconds(40)));

        string head = data.Write("head", new DicomTestData.Slice { Hu = (_, _, _) => 60 });
        var stacked = Frames(Open(head, new MedicalOptions { Windows = "brain,blood,bone", Masks = [new Rect(0, 0, 10, 10)] }))[0].Image;
        var px = stacked.At<Vec3b>(40, 40); // BGR: R = brain, G = blood, B = bone
        Assert.That(px.Item2, Is.EqualTo(Math.Round(255 * ((60 - 39.5) / 79 + 0.5))).Within(1), "brain 40/80");
        Assert.That(px.Item1, Is.EqualTo(Math.Round(255 * ((60 - 74.5) / 214 + 0.5))).Within(1), "blood 75/215");
        Assert.That(px.Item0, Is.EqualTo(Math.Round(255 * ((60 - 599.5) / 2799 + 0.5))).Within(1), "bone 600/2800");
        Assert.That(stacked.At<Vec3b>(5, 5), Is.EqualTo(new Vec3b(0, 0, 0)), "masked");

        Assert.That(() => Open(head, new MedicalOptions { Masks = [new Rect(500, 500, 10, 10)] }).Frames().Wait(),
            Throws.Exception.With.Message.Contains("outside the 64x64 frame"));
        // Said when the source opens (before a model loads), as a wrong command line.
        Assert.That(() => Open(head, new MedicalOptions { Window = "dicom" }), Throws.TypeOf<DicomException>().With.Message.Contains("no window of its own"));
    }

    [Test]
    public void Burned_in_annotations_and_ultrasound_are_warned_about()
    {
        var data = new DicomTestData(Path.Combine(Dir, "burn"));
        var warnings = new List<string>();
        Open(data.Write("b", new DicomTestData.Slice { BurnedIn = true }), null, warnings);
        Open(data.Write("u", new DicomTestData.Slice { Modality = "US" }), null, warnings);
        Assert.That(warnings, Has.Exactly(2).Contains("--mask x,y,w,h"));
    }

    [Test]
    [NeedsPrograms("dcmtk libgdcm-tools", "dcmcjpeg", "dcmcrle", "dcmcjpls", "gdcmconv")]
    public void Compressed_variants_decode_to_the_same_values()
    {
        var data = new DicomTestData(Path.Combine(Dir, "c"));
        string raw = data.Write("raw", new DicomTestData.Slice { Hu = (_, x, y) => (short)(x * 37 - y * 11 - 400) });
        var variants = new Dictionary<string, string[]>
        {
            ["jpeg-lossless"] = ["dcmcjpeg", "+e1", raw], ["rle"] = ["dcmcrle", raw], ["jpeg-ls"] = ["dcmcjpls", raw], ["j2k"] = ["gdcmconv", "--j2k", raw],
        };
        var decoder = new DicomPixelDecoder(new DicomToolkit());
        var reader = new DicomHeaderReader(new DicomToolkit());
        using var expected = decoder.Decode(reader.Read([raw])[0], 0, "raw")[0];
        foreach (var (name, command) in variants)
        {
            string output = Path.Combine(Dir, name + ".dcm");
            DicomTestData.Tool(command[0], [.. command[1..], output]);
            var header = reader.Read([output])[0];
            using var values = decoder.Decode(header, 0, name)[0];
            Assert.That(Cv2.Norm(values, expected, NormTypes.INF), Is.Zero, $"{name} ({header.TransferSyntax}) decodes to the same HU");
        }
    }

    [Test]
    public void Errors_say_what_is_wrong_without_a_path()
    {
        var data = new DicomTestData(Path.Combine(Dir, "err"));
        string slice = data.Write("ok", new DicomTestData.Slice());
        string noPixels = data.Write("nopix", new DicomTestData.Slice { PixelData = false });
        Assert.That(() => Open(noPixels), Throws.TypeOf<DicomException>().With.Message.Contains("no pixel data"));

        var bytes = File.ReadAllBytes(slice);
        string truncated = Path.Combine(Dir, "truncated");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 3000)]);
        var e = Assert.Catch(() => Open(truncated).Frames().Wait())!;
        Assert.That(e.Message, Does.Contain("truncated").Or.Contain("ends early").Or.Contain("no pixel data"));
        Assert.That(e.Message, Does.Not.Contain(Dir));

        var noTools = new DicomToolkit(_ => null);
        Assert.That(() => DicomSource.Open(slice, new MedicalOptions(), _ => { }, noTools),
            Throws.TypeOf<DicomException>().With.Message.Contains("apt-get install dcmtk").And.Message.Contains("dcmdump"));

        var withoutGdcm = new DicomToolkit(p => p == "gdcmconv" ? null : DicomToolkit.FindOnPath(p));
        var j2k = new DicomHeader { File = slice, TransferSyntax = "1.2.840.10008.1.2.4.90" };
        Assert.That(() => new DicomPixelDecoder(withoutGdcm).ToolFor(j2k),
            Throws.TypeOf<DicomException>().With.Message.Contains("JPEG 2000").And.Message.Contains("libgdcm-tools"));

        Assert.That(DicomToolkit.Translate("E: I/O suspension or premature end of stream"), Does.Contain("truncated or corrupt"));
        Assert.That(DicomToolkit.Translate("E: can't change to unencapsulated representation for pixel data"), Does.Contain("cannot be decoded"));
    }

    /// <summary>Patient data out of every output, by construction: a video run with a run folder, JSON Lines, maps
    /// and a review page, from a series whose tags and folder name carry canaries; every byte of every file scanned.</summary>
    [Test]
    public void No_patient_data_or_path_reaches_any_output()
    {
        string secretFolder = Path.Combine(Dir, "CANARYNAME_SECRET_PATIENT");
        var data = new DicomTestData(secretFolder);
        data.Series(6);
        string outputs = Path.Combine(Dir, "out");
        Directory.CreateDirectory(outputs);
        var (exit, stdout, stderr) = SacamInProcess.Run("video", secretFolder, "--model", "default", "--method", "gradcam", "--window", "soft",
            "--run", Path.Combine(outputs, "run"), "--jsonl", Path.Combine(outputs, "frames.jsonl"), "--out", Path.Combine(outputs, "video.mp4"),
            "--save-maps", Path.Combine(outputs, "maps"));
        Assert.That(exit, Is.Zero, stderr);
        var review = SacamInProcess.Run("review", Path.Combine(outputs, "run"), "--out", Path.Combine(outputs, "review"), "--self-contained");
        Assert.That(review.Exit, Is.Zero, review.Err);

        var files = Directory.GetFiles(outputs, "*", SearchOption.AllDirectories);
        Assert.That(files.Length, Is.GreaterThan(8));
        var forbidden = DicomTestData.Canaries.Append("CANARYNAME_SECRET_PATIENT").Append(secretFolder).ToList();
        foreach (var file in files)
        {
            var text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
            foreach (var canary in forbidden)
                Assert.That(text, Does.Not.Contain(canary), $"{Path.GetRelativePath(outputs, file)} holds '{canary}'");
        }
        foreach (var canary in forbidden)
        {
            Assert.That(stdout + stderr + review.Out + review.Err, Does.Not.Contain(canary), "console output");
            Assert.That(string.Join("\n", files), Does.Not.Contain(canary), "file names");
        }
        Assert.That(File.ReadAllText(Path.Combine(outputs, "run", "run.json")), Does.Contain("CT series, 6 slices"));
        // What the review page re-windows from: every slice's values at full depth, its map, and the slice positions.
        Assert.That(Directory.GetFiles(Path.Combine(outputs, "run", "source", "values")), Has.Length.EqualTo(6));
        Assert.That(Directory.GetFiles(Path.Combine(outputs, "run", "source", "maps")), Has.Length.EqualTo(6));
        using (var packed = Cv2.ImRead(Path.Combine(outputs, "run", "source", "values", "000003.png"), ImreadModes.Color))
        {
            var px = packed.At<Vec3b>(2, 2); // slice 3's background: HU 30, stored as 30 + 32768 in red (high) and green (low)
            Assert.That(px.Item2 * 256 + px.Item1 - 32768, Is.EqualTo(30));
        }
        Assert.That(File.ReadAllText(Path.Combine(outputs, "run", "source", "medical.json")), Does.Contain("\"positionMm\": 6"));
        Assert.That(File.ReadAllText(Path.Combine(outputs, "review", "index.html")), Does.Contain("\"medical\":{"));
    }

    [Test]
    public void The_cli_refuses_dicom_options_on_other_sources_and_explains_a_dicom_slice()
    {
        var (exit, _, stderr) = SacamInProcess.Run("video", Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"), "--window", "lung", "--max-frames", "1");
        Assert.That(exit, Is.Not.Zero);
        Assert.That(stderr, Does.Contain("apply to DICOM sources"));

        var data = new DicomTestData(Path.Combine(Dir, "one"));
        string slice = data.Write("slice", new DicomTestData.Slice { Hu = (_, x, y) => (short)(Math.Abs(x - 32) + Math.Abs(y - 32) < 12 ? 900 : 0) });
        string overlay = Path.Combine(Dir, "overlay.png");
        var result = SacamInProcess.Run("explain", slice, "--model", "default", "--method", "gradcam", "--window", "bone", "--out", overlay);
        Assert.That(result.Exit, Is.Zero, result.Err);
        using var written = Cv2.ImRead(overlay);
        Assert.That((written.Width, written.Height), Is.EqualTo((64, 64)));
    }

    [Test]
    public void A_one_channel_model_explains_a_windowed_series()
    {
        var data = new DicomTestData(Path.Combine(Dir, "mono"));
        data.Series(4, size: 32);
        string model = TinyCnn.Save(channels: 1, fileName: "gray-medical.onnx");
        string jsonl = Path.Combine(Dir, "frames.jsonl");
        var (exit, _, stderr) = SacamInProcess.Run("video", data.Folder, "--model", model, "--method", "gradcam", "--window", "brain", "--jsonl", jsonl);
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(File.ReadAllLines(jsonl), Has.Length.EqualTo(4));
    }

    [Test]
    public void Input_range_gives_the_model_raw_scaled_values_at_full_precision_while_the_window_draws_the_picture()
    {
        var data = new DicomTestData(Path.Combine(Dir, "raw"));
        string slice = data.Write("s", new DicomTestData.Slice { Hu = (_, x, _) => (short)(x < 32 ? 50 : 3000) });
        using var frame = Open(slice, new MedicalOptions { Window = "soft", InputRange = (-1024, 1024) }).Frames().FirstAsync().Wait();
        Assert.That(frame.ModelImage, Is.Not.Null);
        Assert.That(frame.ModelImage!.Type(), Is.EqualTo(MatType.CV_32FC3));
        Assert.That(frame.ModelImage.At<Vec3f>(5, 5).Item0, Is.EqualTo((50 + 1024) * 255 / 2048f).Within(1e-3), "HU 50: not rounded to a grey level");
        Assert.That(frame.ModelImage.At<Vec3f>(5, 40).Item0, Is.EqualTo((3000 + 1024) * 255 / 2048f).Within(1e-3), "HU 3000: past the range, not clamped");
        Assert.That(frame.Image.At<Vec3b>(5, 40).Item0, Is.EqualTo(255), "the picture is still the soft-tissue window");

        // The preprocessor takes float frames on the byte scale: equal to the byte path where they agree, beyond it where not.
        var spec = SaCam.Core.Preprocessing.PreprocessSpec.ImageNet with { Width = 8, Height = 8 };
        using var bytes = new Mat(8, 8, MatType.CV_8UC3, new Scalar(10, 20, 30));
        using var floats = new Mat(8, 8, MatType.CV_32FC3, new Scalar(10, 20, 30));
        using var fromBytes = SaCam.Imaging.ImagePreprocessor.ToTensor(bytes, spec).Input;
        using var fromFloats = SaCam.Imaging.ImagePreprocessor.ToTensor(floats, spec).Input;
        Assert.That(TorchSharp.torch.allclose(fromBytes, fromFloats), Is.True);
        using var bright = new Mat(8, 8, MatType.CV_32FC3, new Scalar(510, 510, 510));
        using var past = SaCam.Imaging.ImagePreprocessor.ToTensor(bright, spec).Input;
        Assert.That(past[0, 0, 0, 0].item<float>(), Is.EqualTo((2f - spec.Mean[0]) / spec.Std[0]).Within(1e-4));

        string model = TinyCnn.Save(channels: 1, fileName: "gray-raw.onnx");
        var (exit, _, stderr) = SacamInProcess.Run("explain", slice, "--model", model, "--method", "gradcam", "--window", "soft", "--input-range", "-1024,1024");
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(SacamInProcess.Run("explain", slice, "--model", model, "--input-range", "5,1").Err, Does.Contain("LOW < HIGH"));
    }
}
