using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Checkpoint.Json;

namespace Checkpoint.Runs;

/// <summary>
/// One setting a run keeps in its state file: the key it is kept under, the parameter that sets it, how it is
/// written as a plain value, and how a kept value is read back into a <see cref="RunDefinition"/>, held to the
/// parameter's range as a value given on the command line is.
/// </summary>
internal sealed class KeptSetting
{
    private readonly Func<RunDefinition, object?> _get;
    private readonly Func<RunDefinition, object, string?> _set;

    private KeptSetting(string key, string parameter, Func<RunDefinition, object?> get, Func<RunDefinition, object, string?> set)
    {
        Key = key;
        Parameter = parameter;
        _get = get;
        _set = set;
    }

    /// <summary>The key in the state file's settings.</summary>
    public string Key { get; }

    /// <summary>The parameter of Start-CheckpointRun and Resume-CheckpointRun that sets it, without its dash.</summary>
    public string Parameter { get; }

    /// <summary>The value of <paramref name="definition"/> to keep, as a plain value.</summary>
    public object? Get(RunDefinition definition) => _get(definition);

    /// <summary>
    /// Sets the field of <paramref name="definition"/> from a kept value. Returns why the value cannot be used
    /// (a state file changed by hand can hold anything), or null.
    /// </summary>
    public string? Set(RunDefinition definition, object kept) => _set(definition, kept);

    public static KeptSetting Int(string key, string parameter, int byDefault, int min, int max, Func<RunDefinition, int> get, Action<RunDefinition, int> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            if (!TryNumber(kept, out double number) || double.IsNaN(number) || number <= int.MinValue - 0.5 || number >= int.MaxValue + 0.5)
            {
                return NotTaken(key, kept, parameter);
            }

            // Rounded half to even, as PowerShell casts a number to [int].
            int value = Convert.ToInt32(number, CultureInfo.InvariantCulture);
            if (value != byDefault && (value < min || value > max))
            {
                return OutOfRange(key, value, parameter, min, max);
            }

            set(d, value);
            return null;
        });

    public static KeptSetting Number(string key, string parameter, double byDefault, double min, double max, Func<RunDefinition, double> get, Action<RunDefinition, double> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            if (!TryNumber(kept, out double value))
            {
                return NotTaken(key, kept, parameter);
            }

            // A parameter's own default (TimeoutSeconds 0: none) is kept as it is, in range or not.
            if (value != byDefault && !(value >= min && value <= max))
            {
                return OutOfRange(key, value, parameter, min, max);
            }

            set(d, value);
            return null;
        });

    // The range is a double's (-MaxCost's upper bound is beyond any decimal), so the value is compared as one.
    public static KeptSetting Money(string key, string parameter, double byDefault, double min, double max, Func<RunDefinition, decimal> get, Action<RunDefinition, decimal> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            decimal value;
            try
            {
                value = kept is string text
                    ? decimal.Parse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture)
                    : kept is long or double or decimal or bool ? Convert.ToDecimal(kept, CultureInfo.InvariantCulture) : throw new FormatException();
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                return NotTaken(key, kept, parameter);
            }

            double asDouble = (double)value;
            if (asDouble != byDefault && !(asDouble >= min && asDouble <= max))
            {
                return OutOfRange(key, value, parameter, min, max);
            }

            set(d, value);
            return null;
        });

    public static KeptSetting Text(string key, string parameter, Func<RunDefinition, string?> get, Action<RunDefinition, string?> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            if (kept is IEnumerable and not string)
            {
                return NotTaken(key, kept, parameter);
            }

            set(d, Convert.ToString(kept, CultureInfo.InvariantCulture));
            return null;
        });

    public static KeptSetting Flag(string key, string parameter, Func<RunDefinition, bool> get, Action<RunDefinition, bool> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            if (kept is not bool flag)
            {
                return NotTaken(key, kept, parameter);
            }

            set(d, flag);
            return null;
        });

    public static KeptSetting Texts(string key, string parameter, Func<RunDefinition, IReadOnlyList<string>> get, Action<RunDefinition, IReadOnlyList<string>> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            IEnumerable<object?> items = kept as List<object?> ?? (IEnumerable<object?>)new[] { kept };
            if (kept is List<KeyValuePair<string, object?>> || items.Any(i => i is IEnumerable and not string))
            {
                return NotTaken(key, kept, parameter);
            }

            set(d, items.Select(i => Convert.ToString(i, CultureInfo.InvariantCulture) ?? string.Empty).ToArray());
            return null;
        });

    public static KeptSetting Table(string key, string parameter, Func<RunDefinition, IDictionary?> get, Action<RunDefinition, IDictionary?> set) =>
        new(key, parameter, d => get(d), (d, kept) =>
        {
            if (PlainJson.ToTables(kept) is not IDictionary table)
            {
                return NotTaken(key, kept, parameter);
            }

            set(d, table);
            return null;
        });

    // What a kept number may be: a JSON number, or a number written as text (InvariantCulture).
    private static bool TryNumber(object kept, out double value)
    {
        switch (kept)
        {
            case long or double or decimal:
                value = Convert.ToDouble(kept, CultureInfo.InvariantCulture);
                return true;
            case bool flag:
                value = flag ? 1 : 0;
                return true;
            case string text:
                return double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            default:
                value = 0;
                return false;
        }
    }

    private static string NotTaken(string key, object kept, string parameter) =>
        string.Format(CultureInfo.InvariantCulture, "its state file keeps {0} = {1}, which -{2} does not take", key, kept, parameter);

    private static string OutOfRange(string key, object value, string parameter, object min, object max) =>
        string.Format(CultureInfo.InvariantCulture, "its state file keeps {0} = {1}, outside the range of -{2} ({3} to {4})", key, value, parameter, min, max);
}
