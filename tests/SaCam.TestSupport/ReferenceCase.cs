using System.Text.Json;
using SaCam.Core.Tensors;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>One case of ../shared/fixtures/reference: an image, a class, and what each reference method computed.</summary>
public sealed record ReferenceCase(string Name, string Image, int ClassIndex, string Label)
{
    public string Folder => Path.Combine(SharedData.ReferenceFixtures, Name);
    public Tensor Load(string file) => NpyFile.Read(Path.Combine(Folder, file + ".npy"));
    public override string ToString() => Name;

    /// <summary>All cases that index.json lists (read once per test run). Without ../shared, one placeholder case:
    /// a test case source must not throw, and the tests that take it are marked NeedsSharedData (skipped, or failed
    /// under CI, before they run).</summary>
    public static IEnumerable<ReferenceCase> All()
    {
        if (!SharedData.IsPresent)
        {
            yield return new ReferenceCase("no-shared-data", "", 0, "");
            yield break;
        }
        var path = Path.Combine(SharedData.ReferenceFixtures, "index.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var e in doc.RootElement.EnumerateArray())
            yield return new ReferenceCase(e.GetProperty("case").GetString()!, e.GetProperty("image").GetString()!,
                e.GetProperty("class_index").GetInt32(), e.GetProperty("label").GetString()!);
    }

    /// <summary>The image file the case was made from (imagenet-val or images).</summary>
    public string ImagePath
    {
        get
        {
            foreach (var dir in new[] { "imagenet-val", "images" })
            {
                var p = Path.Combine(SharedData.Root, "media", dir, Image);
                if (File.Exists(p)) return p;
            }
            throw new FileNotFoundException($"Image '{Image}' of case {Name} not found under shared/media.");
        }
    }
}
