namespace SaCam.Tests;

/// <summary>A fresh folder per test, deleted afterwards.</summary>
public abstract class TempFolderTest
{
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateFolder() => Dir = Directory.CreateTempSubdirectory("sacam-test-").FullName;

    [TearDown]
    public void DeleteFolder()
    {
        try { Directory.Delete(Dir, recursive: true); }
        catch (IOException) { } // a file still open on a failing path must not hide the test's own result
    }
}
