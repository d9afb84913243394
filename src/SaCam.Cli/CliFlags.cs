using SaCam.Core;

namespace SaCam.Cli;

/// <summary>The flags by which sacam's users set what the core's messages call settings: the core says "the time
/// budget", sacam's users read "--budget-ms".</summary>
public static class CliFlags
{
    public static string Of(Setting setting) => setting switch
    {
        Setting.Class => "--class",
        Setting.Labels => "--labels",
        Setting.LabelsOffset => "--labels-offset",
        Setting.Engine => "--engine",
        Setting.TimeBudget => "--budget-ms",
        _ => SettingNames.Concept(setting),
    };

    /// <summary>An error's message as sacam's users read it: settings named by their flags.</summary>
    public static string MessageOf(Exception e) => e is ISettingMessage withSettings ? withSettings.Text.Render(Of) : e.Message;
}
