using SaCam.App.Specs;
using SaCam.Core;
using SaCam.Core.Models;
using SaCam.Core.Tasks;

namespace SaCam.App.Building;

/// <summary>Loads the model a spec names, on its device and engine, and says which engine runs it.</summary>
public static class ModelLoader
{
    public static IExplainableModel Load(ModelSpec spec, IRunFeedback feedback, IProgress<DownloadProgress>? download = null)
    {
        var device = DeviceSelector.Parse(spec.Device.Value);
        var card = CardOf(spec);
        if (card is { Task: not ModelTask.Classification })
        {
            if (spec.Engine == Core.Engines.EngineKind.TorchSharp)
                throw new ArgumentException($"--engine torchsharp: a {card.Task.ToString().ToLowerInvariant()} model runs on ONNX Runtime (its card: {card.Source}).");
            var task = OnnxTaskModel.Load(spec.Id, card, device, spec.Threads);
            try
            {
                if (spec.Labels is not null) task.Labels = ModelCatalog.ClassLabelsFor(task, spec.Labels, spec.LabelsOffset);
                NativeRuntime.TuneFor(task);
            }
            catch
            {
                task.Dispose();
                throw;
            }
            return task;
        }
        var model = ModelCatalog.Load(spec.Id, device, spec.Labels, progress: download ?? feedback.Download, labelsOffset: spec.LabelsOffset,
            engine: spec.EngineOptions);
        if (card is not null)
        {
            // A classifier's card may give its labels and preprocessing.
            if (spec.Labels is null && card.LoadLabels() is { } labels) model.Labels = labels;
            if (card.Preprocess is not null) model.Preprocess = card.Preprocess.Apply(model.Preprocess);
        }
        if (model is OnnxCnnModel { EngineNote: { } note }) feedback.Note(note);
        // A no-op unless the program opted in to native tuning at start-up (NativeRuntime.Configure).
        NativeRuntime.TuneFor(model);
        return model;
    }

    /// <summary>The card a spec's model has: --model-card, else an ONNX file's metadata, else none (a classifier).</summary>
    public static ModelCard? CardOf(ModelSpec spec)
    {
        if (spec.Card is not null) return ModelCard.Read(spec.Card);
        if (!spec.Id.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !File.Exists(spec.Id)) return null;
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = Core.Onnx.OnnxFileReader.Read(spec.Id).MetadataProps;
        }
        catch (Exception e) when (e is ModelLoadException or IOException or UnauthorizedAccessException)
        {
            return null; // the catalog's load names what is wrong with the file
        }
        return ModelCard.FromMetadata(metadata, spec.Id);
    }
}
