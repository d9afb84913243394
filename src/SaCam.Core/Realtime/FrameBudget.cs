using System.Globalization;

namespace SaCam.Core.Realtime;

/// <summary>
/// sacam-rt's time accounting for one stream: the budget of each frame (fixed, or the auto budget from the measured
/// forward-and-backward cost), the measured cost per perturbed image, how many channels the rest of the budget buys,
/// the balance carried between frames, and the one warning when the budget never buys a channel.
/// </summary>
internal sealed class FrameBudget(RealtimeSaCamOptions options)
{
    private double? _costPerImageMs;
    private double? _gradientPassMs;
    private int _starvedFrames;
    private bool _warnedStarved;

    /// <summary>Budget left unused by earlier frames (negative: overrun still to pay back).</summary>
    public double CarriedMs { get; private set; }

    /// <summary>The measured cost of one perturbed image (exponential average), null until a channel was scored.</summary>
    public double? CostPerImageMs => _costPerImageMs;

    /// <summary>The share of the frame's budget this stream spends (one of several objects explained on a frame).</summary>
    public double Share
    {
        get => _share;
        set => _share = value is > 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Share), value, "a budget share lies in (0, 1]");
    }

    private double _share = 1;

    /// <summary>This frame's budget: the fixed one, or the auto budget from the measured forward-and-backward cost,
    /// times this stream's share of it.</summary>
    public double BudgetMs => Share * (options.BudgetMs ?? options.AutoBudgetFactor * (_gradientPassMs ?? 0));

    /// <summary>The frame's forward and backward took <paramref name="spentMs"/> (the auto budget follows it).</summary>
    public void ObserveGradientPass(double spentMs) =>
        _gradientPassMs = _gradientPassMs is double g0 ? g0 + options.CostSmoothing * (spentMs - g0) : spentMs;

    /// <summary>
    /// How many channels fit: what is left of the budget after the forward and backward, plus what earlier frames
    /// left unused (or minus what they overran), at the measured cost per perturbed image (two per channel). The
    /// carry lets a budget smaller than one channel's cost score a channel every few frames instead of every frame
    /// overrunning. Until a cost has been measured, one channel is scored as a probe. Counted in doubles: a huge
    /// budget is full SA-CAM, not an overflow.
    /// </summary>
    public double AffordableChannels(double spentMs) => _costPerImageMs is double costMs
        ? Math.Floor(Math.Max(0, BudgetMs + CarriedMs - spentMs) / (2 * costMs))
        : 1;

    /// <summary>Scoring <paramref name="channels"/> channels (two images each) took <paramref name="elapsedMs"/>.</summary>
    public void ObserveScoring(double elapsedMs, long channels)
    {
        double perImage = elapsedMs / (2.0 * channels);
        _costPerImageMs = _costPerImageMs is double old ? old + options.CostSmoothing * (perImage - old) : perImage;
    }

    /// <summary>
    /// Budget left unused by this frame goes to the next ones, overruns are paid back; the balance is bounded (one
    /// budget of debt, and credit of one budget or one channel's cost, whichever is larger) so that a slow spell does
    /// not starve the next minute and an idle one does not produce a frame that blows far past its budget.
    /// </summary>
    public void CarryOver(double usedMs, double budgetMs)
    {
        double credit = Math.Max(budgetMs, 2 * (_costPerImageMs ?? 0));
        CarriedMs = Math.Clamp(CarriedMs + budgetMs - usedMs, -budgetMs, credit);
    }

    public void ForgetCarry() => CarriedMs = 0;

    /// <summary>
    /// A budget that the forward and backward use up on their own never buys a channel: the carry sits at its debt
    /// floor and every frame scores nothing. Returns, once, the sentence that says so with the figures (instead of
    /// silently returning SA-CAM without its score term); null otherwise. It names concepts, not a front-end's
    /// switches: front-ends add how their users set the budget.
    /// </summary>
    public SettingText? StarvationWarning(long scored, double usedMs, double budgetMs)
    {
        bool starved = scored == 0 && usedMs >= budgetMs;
        _starvedFrames = starved ? _starvedFrames + 1 : 0;
        if (_warnedStarved || _starvedFrames < options.StarvedFramesBeforeWarning) return null;
        _warnedStarved = true;
        double channelMs = 2 * (_costPerImageMs ?? 0);
        return new SettingText(string.Create(CultureInfo.InvariantCulture,
            $"sacam-rt: a budget of {budgetMs:F0} ms cannot buy a single channel: this model's forward and backward alone take " +
            $"{_gradientPassMs:F0} ms and a channel {channelMs:F0} ms more, so the maps are SA-CAM without its score term. " +
            $"Use the automatic budget (omit {{TimeBudget}}) or at least {Math.Ceiling(((_gradientPassMs ?? 0) + channelMs) / 10) * 10:F0} ms."));
    }
}
