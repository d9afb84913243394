namespace SaCam.Core.Methods;

/// <summary>
/// A method that spends a per-frame time budget (sacam-rt). When one frame explains several objects, each with its
/// own instance (a score cache per tracked object), the front-end gives each a share of the frame's budget, so that
/// three cars cost one frame's scoring time, not three.
/// </summary>
public interface IBudgetedMethod
{
    /// <summary>The share of the frame's budget (fixed or automatic) this instance spends, in (0, 1]; 1 by default.</summary>
    double BudgetShare { get; set; }
}
