using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SaCam.Cli;
using SaCam.Core.IO;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// The bad-input matrix of docs/bad-input.md, one test case per table row: the command as written (placeholders
/// filled with files made here), its exit code, the text stderr must contain, and for every row: no stack trace,
/// no input changed, and a refused run (exit 2) creates none of its outputs. Adding a row to the document adds a
/// test.
/// </summary>
[TestFixture]
[Platform("Linux")]
public partial class BadInputMatrixTests
{
    public sealed record Row(int Number, string Case, string Command, int Exit, string Message)
    {
        public override string ToString() => $"{Number}: {Case}";
    }

    private static string DocPath => Path.Combine(SharedData.RepoRoot, "docs", "bad-input.md");

    public static IEnumerable<TestCaseData> Rows()
    {
        foreach (var line in File.ReadLines(DocPath))
        {
            var m = RowPattern().Match(line);
            if (!m.Success) continue;
            var row = new Row(int.Parse(m.Groups[1].Value), m.Groups[2].Value.Trim(), m.Groups[3].Value, int.Parse(m.Groups[4].Value), m.Groups[5].Value.Trim());
            yield return new TestCaseData(row).SetName($"Row_{row.Number:D2}_{Regex.Replace(row.Case, @"\W+", "_")}");
        }
    }

    private string _root = "";
    private Dictionary<string, string> _files = [];

    [OneTimeSetUp]
    public void MakeFiles()
    {
        _root = Directory.CreateTempSubdirectory("sacam-bad-input-").FullName;
        string P(params string[] parts) => Path.Combine([_root, .. parts]);
        var media = Path.Combine(SharedData.RepoRoot, "media");
        Directory.CreateDirectory(P("in"));
        File.Copy(Path.Combine(media, "street_clip.mp4"), P("in", "clip.mp4"));
        File.Copy(Path.Combine(media, "street_scene.png"), P("in", "scene.png"));
        File.Copy(Path.Combine(media, "street_car.png"), P("in", "car.png"));
        Directory.CreateDirectory(P("empty"));
        // A PNG whose header claims 40000x40000 (signature, IHDR length and type, width, height, then nothing).
        var huge = new List<byte>(Convert.FromHexString("89504E470D0A1A0A0000000D49484452"));
        huge.AddRange([0, 0, 0x9C, 0x40, 0, 0, 0x9C, 0x40, 8, 2, 0, 0, 0]);
        File.WriteAllBytes(P("in", "huge.png"), huge.ToArray());
        File.WriteAllBytes(P("in", "corrupt.png"), [.. Convert.FromHexString("89504E470D0A1A0A"), .. Encoding.ASCII.GetBytes("garbage, not a PNG chunk")]);
        File.WriteAllBytes(P("in", "corrupt.mp4"), [0, 0, 0, 0x18, .. Encoding.ASCII.GetBytes("ftypisom"), .. new byte[4000]]);
        File.WriteAllText(P("in", "notes.onnx"), "this is not a protobuf file at all, just some text that goes on for a while");
        var negative = new OnnxBuilder().Input("x", 1, 3, -224, 224).LiteralDims().Output("y", 2).Node("Identity", ["x"], ["y"]).Save("negative.onnx");
        var hugeModel = new OnnxBuilder().Input("x", 1, 3, 224, 100000).Output("y", 2).Node("Identity", ["x"], ["y"]).Save("huge.onnx");
        var fourChannels = TinyCnn.Save(channels: 4, fileName: "four.onnx");
        var gray = TinyCnn.Save(channels: 1, fileName: "gray.onnx");
        File.Copy(gray, P("in", "gray.onnx"));
        File.WriteAllLines(P("in", "labels2.txt"), ["second", "third"]);
        File.WriteAllLines(P("in", "labels3.txt"), ["first", "second", "third"]);
        File.CreateSymbolicLink(P("in", "clip-link.mp4"), P("in", "clip.mp4"));
        Link(P("in", "clip.mp4"), P("in", "clip-hardlink.mp4"));
        File.CreateSymbolicLink(P("in", "devfull.npy"), "/dev/full");
        File.WriteAllText(P("in", "regular.txt"), "an existing file");
        Directory.CreateDirectory(P("in", "foreign-run"));
        File.WriteAllText(P("in", "foreign-run", "notes.txt"), "someone's notes");
        Directory.CreateDirectory(P("in", "run-clip"));
        File.Copy(Path.Combine(media, "street_clip.mp4"), P("in", "run-clip", "original.avi"));
        _files = new Dictionary<string, string>
        {
            ["clip"] = P("in", "clip.mp4"), ["image"] = P("in", "scene.png"), ["car"] = P("in", "car.png"), ["dir"] = P("empty"),
            ["huge_png"] = P("in", "huge.png"), ["corrupt_png"] = P("in", "corrupt.png"), ["corrupt_mp4"] = P("in", "corrupt.mp4"),
            ["not_onnx"] = P("in", "notes.onnx"), ["onnx_negative"] = negative, ["onnx_huge"] = hugeModel, ["onnx_4ch"] = fourChannels,
            ["onnx_gray"] = P("in", "gray.onnx"), ["labels_2"] = P("in", "labels2.txt"), ["labels_3"] = P("in", "labels3.txt"),
            ["clip_symlink"] = P("in", "clip-link.mp4"), ["clip_hardlink"] = P("in", "clip-hardlink.mp4"), ["devfull_npy"] = P("in", "devfull.npy"),
            ["regular_file"] = P("in", "regular.txt"), ["foreign_run"] = P("in", "foreign-run"),
            ["run_clip"] = P("in", "run-clip", "original.avi"), ["run_clip_folder"] = P("in", "run-clip"),
        };
        Directory.CreateDirectory(P("in", "frames"));
        File.Copy(Path.Combine(media, "street_scene.png"), P("in", "frames", "a.png"));
        File.Copy(Path.Combine(media, "street_car.png"), P("in", "frames", "b.png"));
        _files["image_folder"] = P("in", "frames");
        var uint8 = TinyCnn.Save(channels: 3, fileName: "uint8.onnx");
        File.WriteAllBytes(uint8, WithInputType(File.ReadAllBytes(uint8), "x", elementType: 2));
        _files["onnx_uint8"] = uint8;
        MakeDicom(P("in"));
        MakeReadOnlyFolder(P("ro"));
    }

    private bool _dicom;
    private string? _readOnly;

    /// <summary>DICOM series (through DCMTK, when it is installed): a whole one, and one whose second slice lost its
    /// last 3000 bytes. Their slices lie under in/, so the matrix checks that no run changed them.</summary>
    private void MakeDicom(string folder)
    {
        if (!Requirement.OnPath("dump2dcm")) return;
        new DicomTestData(Path.Combine(folder, "series")).Series(4);
        var truncated = new DicomTestData(Path.Combine(folder, "truncated-series")).Series(3);
        var bytes = File.ReadAllBytes(truncated[1]);
        File.WriteAllBytes(truncated[1], bytes[..(bytes.Length - 3000)]);
        var two = new DicomTestData(Path.Combine(folder, "two-series"));
        two.Series(2, "a", "1.2.826.0.1.3680043.9.9999.20");
        two.Write("b", new DicomTestData.Slice { SeriesUid = "1.2.826.0.1.3680043.9.9999.21", Description = "Canary chest" });
        _files["dicom_two_series"] = two.Folder;
        _files["dicom_series"] = Path.Combine(folder, "series");
        _files["dicom_truncated_series"] = Path.Combine(folder, "truncated-series");
        _files["truncated_slice"] = Path.GetFileName(truncated[1]);
        _dicom = true;
    }

    /// <summary>A read-only tmpfs (mounting needs root, which CI has): root may write into a 0555 folder, so only a
    /// read-only file system makes a folder that refuses a run's files whoever runs it.</summary>
    private void MakeReadOnlyFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        if (mount("tmpfs", folder, "tmpfs", MS_RDONLY, "size=64k") != 0) return;
        _readOnly = folder;
        _files["readonly_dir"] = folder;
    }

    /// <summary>Sets the element type of the graph input named <paramref name="name"/> (1 float, 2 uint8) in a
    /// serialized model: its ValueInfo holds the name, then the tensor type's elem_type as the varint after 0x08.</summary>
    private static byte[] WithInputType(byte[] model, string name, int elementType)
    {
        var pattern = new byte[] { 0x0A, (byte)name.Length }.Concat(Encoding.ASCII.GetBytes(name)).ToArray();
        for (int at = 0; at + pattern.Length + 6 < model.Length; at++)
        {
            if (!model.AsSpan(at, pattern.Length).SequenceEqual(pattern)) continue;
            int type = at + pattern.Length; // 0x12 len 0x0A len 0x08 elem
            if (model[type] == 0x12 && model[type + 2] == 0x0A && model[type + 4] == 0x08)
            {
                model[type + 5] = (byte)elementType;
                return model;
            }
        }
        throw new InvalidOperationException($"no input '{name}' in the model");
    }

    [OneTimeTearDown]
    public void RemoveFiles()
    {
        if (_readOnly is not null) umount(_readOnly);
        Directory.Delete(_root, recursive: true);
    }

    private const ulong MS_RDONLY = 1;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int mount(string source, string target, string type, ulong flags, string data);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int umount(string target);

    [TestCaseSource(nameof(Rows))]
    public void Row_of_the_matrix(Row row)
    {
        if (row.Command.Contains("{dicom_") && !_dicom) Requirement.Missing("DCMTK (dump2dcm) for the DICOM rows", "apt-get install dcmtk");
        if (row.Command.Contains("{readonly_dir}") && _readOnly is null) Requirement.Missing("a read-only tmpfs for this row", "run the tests as root, as CI does");
        var outDir = Directory.CreateTempSubdirectory("sacam-bad-output-").FullName;
        try
        {
            var args = Words(row.Command).Select(w => Fill(w, outDir)).ToArray();
            var inputs = Directory.EnumerateFiles(Path.Combine(_root, "in"), "*", SearchOption.AllDirectories)
                .Where(f => new FileInfo(f).LinkTarget is null).ToDictionary(f => f, Hash);
            var (exit, stdout, stderr) = SacamInProcess.Run(args);
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(row.Exit), $"exit code; stderr: {stderr}");
                if (row.Message.Length > 0) Assert.That(stderr, Does.Contain(Fill(row.Message, outDir)), "stderr names the problem");
                Assert.That(stderr + stdout, Does.Not.Match(@"\n\s+at [\w.]+[.(]"), "no stack trace");
                Assert.That(stderr, Does.Not.Contain("internal error"), "an expected error, not a crash");
                foreach (var (path, hash) in inputs)
                    Assert.That(Hash(path), Is.EqualTo(hash), $"input {Path.GetFileName(path)} is unchanged");
                Assert.That(FileIdentity.Of("/dev/full").Kind, Is.EqualTo(FileKind.CharacterDevice), "/dev/full is still a device");
                if (row.Exit == CliRunner.UsageError)
                    Assert.That(Directory.EnumerateFileSystemEntries(outDir), Is.Empty, "a refused run creates none of its outputs");
            });
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }

    private string Fill(string text, string outDir) =>
        PlaceholderPattern().Replace(text, m => m.Groups[1].Value == "out" ? outDir
            : _files.TryGetValue(m.Groups[1].Value, out var path) ? path
            : throw new ArgumentException($"docs/bad-input.md uses an unknown placeholder {m.Value}"));

    /// <summary>Splits a command at spaces; "" is an empty argument.</summary>
    private static IEnumerable<string> Words(string command) =>
        command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w == "\"\"" ? "" : w);

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static void Link(string existing, string link)
    {
        if (LinkNative(link: link, existing: existing) != 0) Assert.Fail($"cannot hard-link {link}");
    }

    private static int LinkNative(string existing, string link) => link_(existing, link);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int link_(string existing, string newPath);

    [GeneratedRegex(@"^\| (\d+) \| ([^|]+) \| `([^`]*)` \| (\d+) \| ([^|]*)\|$")]
    private static partial Regex RowPattern();

    [GeneratedRegex(@"\{([a-z0-9_]+)\}")]
    private static partial Regex PlaceholderPattern();
}
