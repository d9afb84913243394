using SaCam.Core.Models;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Imaging;

/// <summary>
/// "Where in this image is something that looks like the exemplar?": the cosine similarity of the model's output
/// (a backbone's embedding, or a classifier's logits) to the exemplar image's own. It gives a backbone with no
/// classifier head, like the embedded ResNet18, a target a person can check: crop the object, and the map should
/// find it. pytorch-grad-cam calls this a similarity-to-concept target.
/// </summary>
public static class ExemplarTarget
{
    public static EmbeddingSimilarityTarget FromImage(string imagePath, IExplainableModel model)
    {
        if (string.IsNullOrWhiteSpace(imagePath)) throw new ArgumentException("The exemplar target needs an image: exemplar:PATH.");
        using var image = ImageFile.ReadBgr(imagePath);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (input, _) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
        var embedding = model.Predict(input)[0];
        return new EmbeddingSimilarityTarget(embedding, SimilarityMeasure.Cosine, $"similarity to {Path.GetFileName(imagePath)}");
    }
}
