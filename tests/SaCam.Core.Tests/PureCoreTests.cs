using System.Text.RegularExpressions;
using Mono.Unix.Native;
using SaCam.Core;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;

namespace SaCam.Tests;

/// <summary>SaCam.Core as a library (issue 19 section 2): process-wide tuning only when a program asks for it, file
/// identity through Mono.Unix, and what a method is read from its type.</summary>
[TestFixture]
public class PureCoreTests : TempFolderTest
{
    /// <summary>Nothing in the library tunes the process by itself: NativeRuntime.Configure is called only by programs
    /// (NativeRuntime.cs itself aside). A library call there is how a model's constructor used to change malloc,
    /// OpenMP and libtorch settings of every program that embeds SaCam.Core.</summary>
    [Test]
    public void Only_programs_opt_in_to_native_tuning()
    {
        var libraries = new[] { "src" }.Select(d => Path.Combine(SharedData.RepoRoot, d))
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => !f.EndsWith(Path.Combine("SaCam.Core", "NativeRuntime.cs")) && !f.EndsWith(Path.Combine("SaCam.Cli", "Program.cs")));
        var callers = libraries.Where(f => Regex.IsMatch(File.ReadAllText(f), @"NativeRuntime\s*\.\s*Configure\s*\(")).ToList();
        Assert.That(callers, Is.Empty, "library code that tunes the process");
        // libtorch's thread count is process-wide too: only NativeRuntime (TuneFor, after a program's opt-in) sets it;
        // OnnxCnnModel used to set it while loading.
        var threadSetters = libraries.Where(f => Regex.IsMatch(File.ReadAllText(f), @"set_num_threads\s*\(")).ToList();
        Assert.That(threadSetters, Is.Empty, "library code that sets libtorch's threads");
    }

    /// <summary>Video tunes libtorch's threads for a detector's or segmenter's head by timing its gradient pass at one
    /// thread and at the current count (NativeRuntime.TuneFor): the faster count wins, a tie keeps the current one, a
    /// machine already at one thread is not timed, and libtorch is left at the count it had.</summary>
    [Test]
    public void The_faster_libtorch_thread_count_is_chosen_by_timing_the_pass()
    {
        int before = TorchSharp.torch.get_num_threads();
        int calls = 0;
        Func<double> Pass(double oneThreadMs, double manyThreadsMs) => () =>
        {
            calls++;
            return TorchSharp.torch.get_num_threads() == 1 ? oneThreadMs : manyThreadsMs;
        };
        try
        {
            TorchSharp.torch.set_num_threads(2);
            Assert.Multiple(() =>
            {
                Assert.That(NativeRuntime.FasterThreadCount(Pass(30, 55), 2), Is.EqualTo(1), "one thread faster (the SSD's head)");
                Assert.That(TorchSharp.torch.get_num_threads(), Is.EqualTo(2), "libtorch left as it was");
                Assert.That(calls, Is.EqualTo(5), "a warm-up, then two rounds of each count");
                Assert.That(NativeRuntime.FasterThreadCount(Pass(25, 16), 2), Is.EqualTo(2), "two threads faster");
                Assert.That(NativeRuntime.FasterThreadCount(Pass(20, 20), 2), Is.EqualTo(2), "a tie keeps the current count");
                calls = 0;
                Assert.That(NativeRuntime.FasterThreadCount(Pass(1, 2), 1), Is.EqualTo(1));
                Assert.That(calls, Is.Zero, "nothing to compare at one thread");
            });
        }
        finally
        {
            TorchSharp.torch.set_num_threads(before);
        }
    }

    /// <summary>Real paths resolve a symbolic link in a middle folder, relative link targets, and outputs that do
    /// not exist yet below a link; a loop of links ends (Mono.Unix's GetCompleteRealPath never returned on .NET 10,
    /// which hung every run that checked its outputs).</summary>
    [Test]
    public void Links_in_middle_folders_resolve_and_a_loop_of_links_ends()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) Assert.Ignore("symbolic links as POSIX has them");
        var real = Directory.CreateDirectory(Path.Combine(Dir, "real")).FullName;
        File.WriteAllText(Path.Combine(real, "f.txt"), "x");
        var via = Path.Combine(Dir, "via");
        Directory.CreateSymbolicLink(via, "real");
        var realRoot = FileIdentity.RealPathOf(real);
        var loop = Path.Combine(Dir, "loop");
        Directory.CreateSymbolicLink(loop, "loop");
        Assert.Multiple(() =>
        {
            Assert.That(FileIdentity.RealPathOf(Path.Combine(via, "f.txt")), Is.EqualTo(Path.Combine(realRoot, "f.txt")));
            Assert.That(FileIdentity.RealPathOf(Path.Combine(via, "new", "out.png")), Is.EqualTo(Path.Combine(realRoot, "new", "out.png")));
            Assert.That(FileIdentity.Of(Path.Combine(via, "f.txt")).SameFileAs(FileIdentity.Of(Path.Combine(real, "f.txt"))), Is.True);
            Assert.That(SymbolicLinks.ResolveEveryComponent(Path.Combine(loop, "x")), Does.EndWith("x"), "the walk gives up after 40 links");
        });
    }

    /// <summary>The tests' set-up opts in, as the CLI does: libtorch then never asks for NNPACK, whose "Could not
    /// initialize NNPACK!" lines filled stderr.</summary>
    [Test]
    public void The_opt_in_switches_nnpack_off()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the switch is read through libtorch's Linux exports");
        if (Environment.GetEnvironmentVariable("SACAM_NATIVE_TUNING") == "0") Assert.Ignore("SACAM_NATIVE_TUNING=0 leaves NNPACK alone");
        Assert.That(NnpackSwitch.IsEnabled(), Is.False);
    }

    [Test]
    public void A_hard_link_a_symbolic_link_and_a_relative_path_are_the_same_file()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) Assert.Ignore("device and inode are POSIX");
        var file = Path.Combine(Dir, "a.txt");
        File.WriteAllText(file, "x");
        var hard = Path.Combine(Dir, "hard.txt");
        Assert.That(Syscall.link(file, hard), Is.Zero, "link(2)");
        var soft = Path.Combine(Dir, "soft.txt");
        File.CreateSymbolicLink(soft, file);
        var other = Path.Combine(Dir, "b.txt");
        File.WriteAllText(other, "x");
        var original = FileIdentity.Of(file);
        Assert.Multiple(() =>
        {
            Assert.That(original.Kind, Is.EqualTo(FileKind.Regular));
            Assert.That(original.Inode, Is.Not.Zero, "inode read through Mono.Unix");
            Assert.That(FileIdentity.Of(hard).SameFileAs(original), Is.True, "hard link");
            Assert.That(FileIdentity.Of(hard).RealPath, Is.Not.EqualTo(original.RealPath), "a hard link is another name: only the inode tells");
            Assert.That(FileIdentity.Of(soft).SameFileAs(original), Is.True, "symbolic link");
            Assert.That(FileIdentity.Of(soft).RealPath, Is.EqualTo(original.RealPath), "the symbolic link resolves to the file");
            Assert.That(FileIdentity.Of(Path.Combine(Dir, ".", "x", "..", "a.txt")).SameFileAs(original), Is.True, "another spelling");
            Assert.That(FileIdentity.Of(other).SameFileAs(original), Is.False, "another file with the same content");
            Assert.That(FileIdentity.Of(Path.Combine(Dir, "missing.txt")).Kind, Is.EqualTo(FileKind.Missing));
            Assert.That(FileIdentity.Of(Dir).Kind, Is.EqualTo(FileKind.Directory));
        });
    }

    [Test]
    public void Device_files_and_pipes_are_told_apart()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("/dev/null and mkfifo as on Linux");
        var fifo = Path.Combine(Dir, "pipe");
        Assert.That(Syscall.mkfifo(fifo, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR), Is.Zero, "mkfifo(3)");
        Assert.Multiple(() =>
        {
            Assert.That(FileIdentity.Of("/dev/null").Kind, Is.EqualTo(FileKind.CharacterDevice));
            Assert.That(FileIdentity.Of(fifo).Kind, Is.EqualTo(FileKind.Fifo));
        });
    }

    /// <summary>Front-ends ask the registry whether a method keeps state per stream instead of comparing its id.</summary>
    [Test]
    public void The_registry_says_which_methods_are_per_stream()
    {
        Assert.Multiple(() =>
        {
            Assert.That(MethodRegistry.IsPerStream("sacam-rt"), Is.True);
            Assert.That(MethodRegistry.IsPerStream("SACAM-RT"), Is.True, "ids are case-insensitive");
            Assert.That(MethodRegistry.IsPerStream("gradcam"), Is.False);
            Assert.That(MethodRegistry.IsPerStream("no-such-method"), Is.False);
            foreach (var info in MethodRegistry.Describe)
            {
                var method = MethodRegistry.Create(info.Id);
                Assert.That(info.PerStream, Is.EqualTo(method is IPerStreamMethod), info.Id);
                (method as IDisposable)?.Dispose();
            }
            Assert.That(MethodRegistry.Describe.Where(m => m.PerStream).Select(m => m.Id), Is.EqualTo(new[] { "sacam-rt" }));
        });
    }

    /// <summary>The budget parser keeps its contract (the application layer calls it): auto is null, a number is
    /// milliseconds, anything else is refused naming the text.</summary>
    [Test]
    public void Budgets_parse_as_users_write_them()
    {
        Assert.Multiple(() =>
        {
            Assert.That(RealtimeSaCamOptions.ParseBudget(" Auto "), Is.Null);
            Assert.That(RealtimeSaCamOptions.ParseBudget("40"), Is.EqualTo(40));
            Assert.That(Assert.Throws<ArgumentException>(() => RealtimeSaCamOptions.ParseBudget("-3"))!.Message, Does.Contain("'-3'"));
        });
    }
}
