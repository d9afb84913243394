#nullable enable
using System;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace SaCam.Client
{
    /// <summary>
    /// The memory a session's slots live in: a mapped file the server made (shared-memory transport), or a block of
    /// this process's own memory (TCP transport: the client thread moves slots over the socket). Either way the frame
    /// loop and the client thread see the same layout at <see cref="Base"/>.
    /// </summary>
    internal sealed unsafe class SharedRegion : IDisposable
    {
        private readonly MemoryMappedFile? _file;
        private readonly MemoryMappedViewAccessor? _view;
        private readonly IntPtr _owned;
        private byte* _base;

        private SharedRegion(MemoryMappedFile? file, MemoryMappedViewAccessor? view, IntPtr owned, byte* pointer, long bytes)
        {
            _file = file;
            _view = view;
            _owned = owned;
            _base = pointer;
            Bytes = bytes;
        }

        public byte* Base => _base;
        public long Bytes { get; }

        /// <summary>Maps the file (or, on Windows, the named map) the server attached this session to.</summary>
        public static SharedRegion Map(string path, long bytes)
        {
            MemoryMappedFile file;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) && !path.Contains(Path.DirectorySeparatorChar.ToString()))
                file = MemoryMappedFile.OpenExisting(path, MemoryMappedFileRights.ReadWrite);
            else
                file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, bytes, MemoryMappedFileAccess.ReadWrite);
            var view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new SharedRegion(file, view, IntPtr.Zero, pointer, bytes);
        }

        /// <summary>Private memory with the same layout (TCP transport), zeroed, its triple buffers initialised.</summary>
        public static SharedRegion Local(int inputCapacity, int outputCapacity)
        {
            long bytes = SharedLayout.TotalBytes(inputCapacity, outputCapacity);
            var owned = Marshal.AllocHGlobal((IntPtr)bytes);
            var pointer = (byte*)owned;
            new Span<byte>(pointer, SharedLayout.HeaderBytes).Clear();
            Fields.I32(pointer, SharedLayout.InputStateOffset, 1);
            Fields.I32(pointer, SharedLayout.OutputStateOffset, 1);
            Fields.I32(pointer, SharedLayout.InputCapacityOffset, inputCapacity);
            Fields.I32(pointer, SharedLayout.OutputCapacityOffset, outputCapacity);
            return new SharedRegion(null, null, owned, pointer, bytes);
        }

        public void Dispose()
        {
            if (_base == null) return;
            _base = null;
            if (_view is not null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
                _view.Dispose();
                _file!.Dispose();
            }
            if (_owned != IntPtr.Zero) Marshal.FreeHGlobal(_owned);
        }
    }
}
