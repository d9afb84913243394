using SaCam.App.Specs;
using SaCam.Core;
using SaCam.Core.Models;

namespace SaCam.App.Building;

/// <summary>Loads the model a spec names, on its device and engine, and says which engine runs it.</summary>
public static class ModelLoader
{
    public static IExplainableModel Load(ModelSpec spec, IRunFeedback feedback, IProgress<DownloadProgress>? download = null)
    {
        var device = DeviceSelector.Parse(spec.Device.Value);
        var model = ModelCatalog.Load(spec.Id, device, spec.Labels, progress: download ?? feedback.Download, labelsOffset: spec.LabelsOffset,
            engine: spec.EngineOptions);
        if (model is OnnxCnnModel { EngineNote: { } note }) feedback.Note(note);
        // A no-op unless the program opted in to native tuning at start-up (NativeRuntime.Configure).
        NativeRuntime.TuneFor(model);
        return model;
    }
}
