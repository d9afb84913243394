using System.Text;

namespace SaCam.Core;

/// <summary>The settings a user gives a run, by concept. Core's messages refer to them through
/// <see cref="SettingText"/> so that each front-end can name them its own way (the CLI by its flags, a host by its
/// property names); Core itself never knows a flag.</summary>
public enum Setting
{
    Class,
    Labels,
    LabelsOffset,
    Engine,
    TimeBudget,
}

/// <summary>A message that refers to settings as placeholders (<c>{Class}</c>, <c>{TimeBudget}</c>, ...), rendered
/// with whichever names the reader knows them by.</summary>
public readonly record struct SettingText(string Template)
{
    public string Render(Func<Setting, string> nameOf)
    {
        var text = new StringBuilder(Template);
        foreach (var setting in Enum.GetValues<Setting>()) text.Replace($"{{{setting}}}", nameOf(setting));
        return text.ToString();
    }

    /// <summary>The message with the settings' concept names, for readers outside any front-end.</summary>
    public override string ToString() => Render(SettingNames.Concept);
}

public static class SettingNames
{
    public static string Concept(Setting setting) => setting switch
    {
        Setting.Class => "the class",
        Setting.Labels => "the labels file",
        Setting.LabelsOffset => "the labels offset",
        Setting.Engine => "the engine",
        Setting.TimeBudget => "the time budget",
        _ => setting.ToString(),
    };
}

/// <summary>An error whose message refers to settings: front-ends render <see cref="Text"/> under their own
/// names instead of reading Message.</summary>
public interface ISettingMessage
{
    SettingText Text { get; }
}

/// <summary>A setting's value that cannot work, with a message a front-end can render under its own names.</summary>
public sealed class SettingException(SettingText text) : ArgumentException(text.ToString()), ISettingMessage
{
    public SettingText Text { get; } = text;
}
