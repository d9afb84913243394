using System.Buffers.Binary;
using SaCam.Client;
using static SaCam.Tests.ServeHarness;

namespace SaCam.Tests;

/// <summary>
/// `sacam serve` against clients that break the protocol: the three messages that once ended the process, a frame far
/// larger than its session, and a seeded fuzzer of thousands of malformed and truncated messages of every type. Each
/// bad message ends its own session with an Error naming it, never the server, which keeps serving a well-behaved
/// client throughout with its memory flat.
/// </summary>
[TestFixture]
[NonParallelizable]
[Platform("Linux")]
public class ServeFuzzTests : TempFolderTest
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    // The first two bytes are the protocol version, little-endian: the current one, so the message fails on what
    // follows and not on the version check before it.
    [TestCase("a Hello of 2 bytes", new byte[] { (byte)Protocol.Version, 0 }, "holds no token length")]
    [TestCase("a Hello whose token length says 60000 in 4 bytes", new byte[] { (byte)Protocol.Version, 0, 0x60, 0xEA }, "token length says 60000")]
    [TestCase("an empty Hello", new byte[0], "holds no protocol version")]
    public void A_short_Hello_ends_its_session_with_an_error_and_the_server_serves_on(string what, byte[] payload, string error)
    {
        var (server, port, token) = StartTinyServer(Dir);
        using (server)
        {
            var answer = Send(port, Message(MessageType.Hello, payload), AnswerTimeout);
            Assert.That(answer.ErrorText, Does.StartWith("bad message").And.Contain(error), $"{what}: {answer}");
            AssertServes(server, port, token);
            Assert.That(server.Error, Does.Contain("bad message from the client").And.Contain(error), "a line on the server's stderr");
        }
    }

    [Test]
    public void An_empty_Resize_ends_its_session_with_an_error_and_the_server_serves_on()
    {
        var (server, port, token) = StartTinyServer(Dir);
        using (server)
        {
            var answer = Send(port, [.. Message(MessageType.Hello, HelloPayload(token)), .. Message(MessageType.Resize, [])], AnswerTimeout);
            Assert.That(answer.Messages.Select(m => m.Type), Does.Contain(MessageType.Attach), "the handshake went through first");
            Assert.That(answer.ErrorText, Does.StartWith("bad message").And.Contain("a Resize of 0 bytes"), answer.ToString());
            AssertServes(server, port, token);
        }
    }

    /// <summary>A client asks again on every refused frame until the new region's Attach reaches it. A region made
    /// for each ask deleted the file the Attach on its way named, and the client failed to map it ("Could not find
    /// file", seen on a busy machine): a Resize the region already fits makes nothing.</summary>
    [Test]
    public void Resizes_repeated_before_the_attach_arrives_make_one_region()
    {
        var (server, port, token) = StartTinyServer(Dir);
        using (server)
        {
            var larger = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(larger, 2 * TinySide);
            BinaryPrimitives.WriteInt32LittleEndian(larger.AsSpan(4), 2 * TinySide);
            var answer = Send(port, [.. Message(MessageType.Hello, HelloPayload(token)), .. Message(MessageType.Resize, larger),
                .. Message(MessageType.Resize, larger), .. Message(MessageType.Resize, larger)], AnswerTimeout);
            Assert.That(answer.Messages.Count(m => m.Type == MessageType.Attach), Is.EqualTo(2), $"the handshake's region and one larger: {answer}");
            Assert.That(answer.ErrorText, Is.Null, answer.ToString());
            AssertServes(server, port, token);
        }
    }

    [Test]
    public void A_4000x4000_frame_into_a_640x480_session_gets_an_error_result_and_the_session_goes_on()
    {
        var (server, port, token) = StartTinyServer(Dir);
        using (server)
        {
            var huge = FramePayload(frameId: 1, 4000, 4000, stride: 16000, pixelBytes: 16000L * 4000);
            var fits = FramePayload(frameId: 2, TinySide, TinySide, stride: 4 * TinySide, pixelBytes: 4 * TinySide * TinySide);
            var answer = Send(port, [.. Message(MessageType.Hello, HelloPayload(token, 640, 480, Transport.Tcp)), .. Message(MessageType.Frame, huge),
                .. Message(MessageType.Frame, fits)], TimeSpan.FromSeconds(60));
            var results = answer.Results.ToList();
            Assert.That(results, Has.Count.EqualTo(2), answer.ToString());
            Assert.That(results[0].Status, Is.EqualTo(1));
            Assert.That(results[0].Error, Does.Contain("frame 1 of 4000x4000 does not fit the session (send Resize first): 64000000 bytes, room for 1228800"));
            Assert.That(results[1], Is.EqualTo((0, "")), "the next frame that fits is explained");
            Assert.That(answer.ErrorText, Is.Null, "no session error: the client gave a well-formed frame");
            Assert.That(server.HasExited, Is.False);
        }
    }

    /// <summary>The client writes the triple buffers' state words too: one naming a fourth slot would send the server's
    /// next read or write past the shared file.</summary>
    [TestCase(SharedLayout.InputStateOffset, TestName = "A_corrupt_input_state_word_ends_its_session_and_not_the_server")]
    [TestCase(SharedLayout.OutputStateOffset, TestName = "A_corrupt_output_state_word_ends_its_session_and_not_the_server")]
    public void A_corrupt_state_word_ends_its_session_and_not_the_server(int stateOffset)
    {
        var (server, port, token) = StartTinyServer(Dir, "--shm-dir", Dir);
        using (server)
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream,
                System.Net.Sockets.ProtocolType.Tcp) { ReceiveTimeout = 20000 };
            socket.Connect(System.Net.IPAddress.Loopback, port);
            socket.Send(Message(MessageType.Hello, HelloPayload(token)));
            AttachMessage? attach = null;
            while (attach is null && ReadOne(socket) is var (type, payload))
                if (type == MessageType.Attach) attach = AttachMessage.Read(payload);
            Assert.That(attach, Is.Not.Null);
            using var file = new FileStream(attach!.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);

            void WriteAt(long offset, byte[] bytes)
            {
                file.Seek(offset, SeekOrigin.Begin);
                file.Write(bytes);
                file.Flush();
            }
            byte[] Int(int v) => BitConverter.GetBytes(v);
            var header = FramePayload(1, TinySide, TinySide, 4 * TinySide, 0);
            void Ring(int slot, long frameId)
            {
                BinaryPrimitives.WriteInt64LittleEndian(header, frameId);
                WriteAt(SharedLayout.InputSlotOffset(slot, attach.InputCapacity), header);
                WriteAt(SharedLayout.InputStateOffset, Int(slot | SharedLayout.Dirty));
                socket.Send(Message(MessageType.Doorbell, [1]));
            }

            WriteAt(stateOffset, Int(3 | SharedLayout.Dirty)); // "slot 3 is new"
            if (stateOffset == SharedLayout.InputStateOffset) socket.Send(Message(MessageType.Doorbell, [1]));
            else
            {
                Ring(0, 1); // explained into output slot 0; publishing it hands the server "slot 3" to write next
                Thread.Sleep(500);
                Ring(1, 2);
            }
            string? error = null;
            while (error is null && ReadOne(socket) is var (type, payload))
                if (type == MessageType.Error) error = ErrorText(payload);
            Assert.That(error, Does.StartWith("bad message").And.Contain("state word in the shared file names slot 3"));
            AssertServes(server, port, token);
        }
    }

    [Test]
    public void Thousands_of_malformed_messages_leave_the_server_serving_with_flat_memory()
    {
        const int Cases = 3000, Seed = 20261202;
        var (server, port, token) = StartTinyServer(Dir, "--shm-dir", Dir, "--max-sessions", "4");
        using (server)
        {
            using var good = Attach(port, token);
            var generator = new MalformedMessages(new Random(Seed), token);
            Assert.That(Explain(good, TinyFrame(0), TinySide, TinySide).Status, Is.Zero, good.LastError);
            for (int i = 0; i < 100; i++) Run(generator.Next(), port); // warm up: every code path once, before the first reading
            long before = ResidentBytes(server.Id);
            int errors = 0, frameErrors = 0;
            for (int i = 0; i < Cases; i++)
            {
                var c = generator.Next();
                var answer = Run(c, port);
                if (c.Expect == Expect.Error)
                {
                    errors++;
                    Assert.That(answer.ErrorText, Does.StartWith("bad message"), $"case {i} ({c.What}): {answer}");
                }
                else if (c.Expect == Expect.ErrorResult)
                {
                    frameErrors++;
                    Assert.That(answer.Results.Select(r => r.Status), Does.Contain(1), $"case {i} ({c.What}): {answer}");
                    Assert.That(answer.ErrorText, Is.Null, $"case {i} ({c.What}): a frame too large is the frame's error, not the session's");
                }
                Assert.That(server.HasExited, Is.False, $"case {i} ({c.What}) ended the server: {server.Error}");
                if (i % 100 == 0)
                    Assert.That(Explain(good, TinyFrame(i), TinySide, TinySide).Status, Is.Zero, $"the well-behaved client after case {i}: {good.LastError}");
            }
            long after = ResidentBytes(server.Id);
            TestContext.Out.WriteLine($"{Cases} cases ({errors} bad messages, {frameErrors} frames too large): RSS {before >> 20} -> {after >> 20} MB");
            Assert.Multiple(() =>
            {
                Assert.That(errors, Is.GreaterThan(Cases / 2), "most cases are bad messages with a known answer");
                Assert.That(frameErrors, Is.GreaterThan(0));
                Assert.That(good.State, Is.EqualTo(ClientState.Ready), good.LastError);
                Assert.That(after, Is.LessThan(before + (150L << 20)), "memory flat: within 150 MB of where it started");
                Assert.That(server.Error, Does.Not.Contain("internal error").And.Not.Contain("Unhandled exception"));
                Assert.That(Directory.GetFiles(Dir, "sacam-*.shm"), Has.Length.LessThanOrEqualTo(1), "only the good client's session has a shared file");
            });
        }
    }

    private static Answer Run(MalformedMessages.Case c, int port) => Send(port, c.Bytes, AnswerTimeout);

    /// <summary>A fresh well-behaved client still gets a result.</summary>
    private static void AssertServes(CliProcess server, int port, string token)
    {
        Assert.That(server.HasExited, Is.False, server.Error);
        using var client = Attach(port, token);
        Assert.That(Explain(client, TinyFrame(1), TinySide, TinySide).Status, Is.Zero, client.LastError);
    }

    internal enum Expect { Anything, Error, ErrorResult }

    /// <summary>
    /// A seeded generator of client bytes that break the protocol, each with what the server must answer: an Error
    /// (a complete message that is wrong), an error result (a well-formed frame too large for its session), or
    /// anything at all but a crash (random bytes, a message cut short by the client closing).
    /// </summary>
    internal sealed class MalformedMessages(Random random, string token)
    {
        public sealed record Case(string What, byte[] Bytes, Expect Expect);

        private static readonly MessageType[] ServerTypes = [MessageType.Status, MessageType.Attach, MessageType.Result, MessageType.Stats, MessageType.Error];

        public Case Next() => random.Next(12) switch
        {
            0 => Garbage(),
            1 => CutHello(),
            2 => HelloWithWrongTokenLength(),
            3 => HelloWithBadFields(),
            4 => NotHelloFirst(),
            5 => AbsurdLength(),
            6 => AfterHello(BadDoorbell()),
            7 => AfterHello(BadResize()),
            8 => BadFrame(),
            9 => AfterHello(WrongTypeLater()),
            10 => Truncated(),
            _ => FrameTooLarge(),
        };

        private byte[] RandomBytes(int max)
        {
            var bytes = new byte[random.Next(max + 1)];
            random.NextBytes(bytes);
            return bytes;
        }

        private Case Garbage() => new("random bytes", RandomBytes(64), Expect.Anything);

        private Case CutHello()
        {
            var hello = HelloPayload(token);
            int keep = random.Next(hello.Length);
            return new($"a Hello cut to {keep} bytes", Message(MessageType.Hello, hello.AsSpan(0, keep)), Expect.Error);
        }

        private Case HelloWithWrongTokenLength()
        {
            var hello = HelloPayload(token);
            int actual = BinaryPrimitives.ReadUInt16LittleEndian(hello.AsSpan(2));
            int claimed;
            do claimed = random.Next(2) == 0 ? random.Next(65536) : actual + random.Next(-3, 4); while (claimed == actual || claimed < 0);
            BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(2), (ushort)claimed);
            return new($"a Hello whose token length says {claimed} (is {actual})", Message(MessageType.Hello, hello), Expect.Error);
        }

        private Case HelloWithBadFields()
        {
            var hello = HelloPayload(token);
            int tail = hello.Length - 16;
            int field = random.Next(2);
            int value = random.Next(2, int.MaxValue) * (random.Next(2) == 0 ? 1 : -1);
            BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(tail + 8 + 4 * field), value);
            return new($"a Hello whose {(field == 0 ? "want-overlay" : "transport")} is {value}", Message(MessageType.Hello, hello), Expect.Error);
        }

        private Case NotHelloFirst()
        {
            ushort type;
            do type = random.Next(3) == 0 ? (ushort)random.Next(65536) : (ushort)random.Next(2, 11); while (type == (ushort)MessageType.Hello);
            var payload = RandomBytes(32);
            return new($"a first message of type {type}", Message(type, payload.Length, payload), Expect.Error);
        }

        private Case AbsurdLength()
        {
            int announced = random.Next(2) == 0 ? -random.Next(1, int.MaxValue) : Protocol.MaxMessageBytes + 1 + random.Next(int.MaxValue - Protocol.MaxMessageBytes - 1);
            bool later = random.Next(2) == 0;
            var message = Message((ushort)random.Next(1, 11), announced, RandomBytes(16));
            return later
                ? new($"after Hello, a header announcing {announced} bytes", [.. Message(MessageType.Hello, HelloPayload(token)), .. message], Expect.Error)
                : new($"a header announcing {announced} bytes", message, Expect.Error);
        }

        private (string What, byte[] Bytes) BadDoorbell()
        {
            int length;
            do length = random.Next(9); while (length == 1);
            var payload = new byte[length];
            random.NextBytes(payload);
            return ($"a Doorbell of {length} bytes", Message(MessageType.Doorbell, payload));
        }

        private (string What, byte[] Bytes) BadResize()
        {
            if (random.Next(2) == 0)
            {
                int length;
                do length = random.Next(13); while (length == 8);
                var payload = new byte[length];
                random.NextBytes(payload);
                return ($"a Resize of {length} bytes", Message(MessageType.Resize, payload));
            }
            int w = Side(), h = Side();
            if (ClientMessagesSizeServed(w, h)) w = -w - 1;
            var sizes = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(sizes, w);
            BinaryPrimitives.WriteInt32LittleEndian(sizes.AsSpan(4), h);
            return ($"a Resize to {w}x{h}", Message(MessageType.Resize, sizes));
        }

        private static bool ClientMessagesSizeServed(int w, int h) => w is > 0 and <= 8192 && h is > 0 and <= 8192;

        /// <summary>A side: often absurd (zero, negative, huge, near int overflow), sometimes plausible.</summary>
        private int Side() => random.Next(6) switch
        {
            0 => 0,
            1 => -random.Next(1, int.MaxValue),
            2 => 8193 + random.Next(100000),
            3 => (1 << 30) + random.Next(4),
            _ => random.Next(1, 64),
        };

        private Case BadFrame()
        {
            bool tcp = random.Next(4) != 0;
            string what;
            byte[] payload;
            switch (tcp ? random.Next(5) : 5)
            {
                case 0:
                    payload = RandomBytes(SharedLayout.InputHeaderBytes - 1);
                    what = $"a Frame of {payload.Length} bytes";
                    break;
                case 1:
                {
                    int w = random.Next(1, TinySide + 1), h = random.Next(1, TinySide + 1);
                    long wrong;
                    do wrong = 4L * w * h + random.Next(-64, 65); while (wrong == 4L * w * h || wrong < 0);
                    payload = FramePayload(1, w, h, 4 * w, wrong);
                    what = $"a Frame of {w}x{h} carrying {wrong} pixel bytes";
                    break;
                }
                case 2:
                {
                    int w = Side(), h = Side();
                    if (ClientMessagesSizeServed(w, h)) h = 0;
                    payload = FramePayload(1, w, h, 4 * w, random.Next(256));
                    what = $"a Frame of {w}x{h}";
                    break;
                }
                case 3:
                {
                    int w = random.Next(1, TinySide + 1);
                    int stride = random.Next(0, 4 * w);
                    payload = FramePayload(1, w, 2, stride, 2L * stride);
                    what = $"a Frame of width {w} with stride {stride}";
                    break;
                }
                case 4:
                {
                    int format = random.Next(1, 100);
                    payload = FramePayload(1, 4, 4, 16, 64, format);
                    what = $"a Frame in format {format}";
                    break;
                }
                default:
                    payload = FramePayload(1, 4, 4, 16, 64);
                    what = "a Frame in a shared-memory session";
                    break;
            }
            return new(what, [.. Message(MessageType.Hello, HelloPayload(token, transport: tcp ? Transport.Tcp : Transport.SharedMemory)),
                .. Message(MessageType.Frame, payload)], Expect.Error);
        }

        private (string What, byte[] Bytes) WrongTypeLater()
        {
            ushort type = random.Next(3) switch
            {
                0 => (ushort)MessageType.Hello,
                1 => (ushort)ServerTypes[random.Next(ServerTypes.Length)],
                _ => (ushort)random.Next(11, 65536),
            };
            var payload = type == (ushort)MessageType.Hello ? HelloPayload(token) : RandomBytes(48);
            return ($"after Hello, a message of type {type}", Message(type, payload.Length, payload));
        }

        private Case AfterHello((string What, byte[] Bytes) next)
        {
            var transport = random.Next(2) == 0 ? Transport.Tcp : Transport.SharedMemory;
            return new($"{next.What} ({transport})", [.. Message(MessageType.Hello, HelloPayload(token, transport: transport)), .. next.Bytes], Expect.Error);
        }

        /// <summary>A message whose header promises more than the client sends before it closes.</summary>
        private Case Truncated()
        {
            var type = (MessageType)random.Next(1, 11);
            var payload = type == MessageType.Hello ? HelloPayload(token) : RandomBytes(64);
            if (payload.Length == 0) payload = [1];
            var message = Message((ushort)type, payload.Length, payload);
            int keep = random.Next(message.Length);
            var cut = message[..keep];
            return random.Next(2) == 0 || type == MessageType.Hello
                ? new($"a {type} cut to {keep} bytes", cut, Expect.Anything)
                : new($"after Hello, a {type} cut to {keep} bytes", [.. Message(MessageType.Hello, HelloPayload(token, transport: Transport.Tcp)), .. cut], Expect.Anything);
        }

        private Case FrameTooLarge()
        {
            int w = random.Next(TinySide + 1, 2 * TinySide), h = random.Next(TinySide + 1, 2 * TinySide);
            return new($"a well-formed {w}x{h} frame into a {TinySide}x{TinySide} session",
                [.. Message(MessageType.Hello, HelloPayload(token, transport: Transport.Tcp)), .. Message(MessageType.Frame, FramePayload(1, w, h, 4 * w, 4L * w * h))],
                Expect.ErrorResult);
        }
    }
}
