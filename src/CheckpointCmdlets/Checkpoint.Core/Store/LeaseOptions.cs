using System;
using System.Diagnostics;
using System.Globalization;

namespace Checkpoint.Store;

/// <summary>
/// How a run's lease is held: how long it lives without renewal, and who this process is. The defaults come
/// from the environment (<c>CHECKPOINT_LEASE_SECONDS</c>, 30 when unset); tests build their own to stand
/// for another node.
/// </summary>
public sealed class LeaseOptions
{
    /// <summary>The environment variable that sets <see cref="Timeout"/> in seconds.</summary>
    public const string TimeoutVariable = "CHECKPOINT_LEASE_SECONDS";

    /// <summary>The lease timeout when <see cref="TimeoutVariable"/> is unset.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<(int Id, DateTime Start)> s_self = new(() =>
    {
        using Process self = Process.GetCurrentProcess();
        return (self.Id, StartOf(self));
    });

    /// <summary>A lease not renewed for this long is stale: another process may take it over.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>This machine's name, as written in the lease.</summary>
    public string Host { get; init; } = Environment.MachineName;

    /// <summary>This process's id.</summary>
    public int ProcessId { get; init; } = s_self.Value.Id;

    /// <summary>When this process started (UTC), so that a reused process id is not taken for the holder.</summary>
    public DateTime ProcessStart { get; init; } = s_self.Value.Start;

    /// <summary>False only in tests that stand for a holder whose renewals stopped (a paused or partitioned node).</summary>
    public bool Renew { get; init; } = true;

    /// <summary>How often the holder renews: a third of the timeout, so that one late renewal is not a loss.</summary>
    public TimeSpan RenewInterval => TimeSpan.FromTicks(Timeout.Ticks / 3);

    /// <summary>
    /// How long the holder may go without a renewal before it stops writing: two thirds of the timeout, so that
    /// it has stopped well before anyone who waited out the whole timeout takes the lease over.
    /// </summary>
    public TimeSpan SelfFence => TimeSpan.FromTicks(Timeout.Ticks * 2 / 3);

    /// <summary>
    /// The options of this process, with the timeout from <see cref="TimeoutVariable"/>. A value that is not a
    /// number of seconds from 1 to 86400 is <see cref="ErrorIds.InvalidLeaseSeconds"/>.
    /// </summary>
    public static LeaseOptions FromEnvironment() => FromSetting(Environment.GetEnvironmentVariable(TimeoutVariable));

    /// <summary>The options for <paramref name="text"/>, the value of <see cref="TimeoutVariable"/>, as <see cref="FromEnvironment"/> reads it.</summary>
    internal static LeaseOptions FromSetting(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new LeaseOptions();
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || double.IsNaN(seconds) || seconds < 1 || seconds > 86400)
        {
            throw new CheckpointException(
                ErrorIds.InvalidLeaseSeconds,
                $"{TimeoutVariable} is '{text}': it must be a number of seconds from 1 to 86400 (30 when unset). It sets how long a run's lease lives without renewal on a shared file system.")
            {
                Target = text,
            };
        }

        return new LeaseOptions { Timeout = TimeSpan.FromSeconds(seconds) };
    }

    /// <summary>When <paramref name="process"/> started, in UTC; <see cref="DateTime.MinValue"/> when that cannot be read.</summary>
    internal static DateTime StartOf(Process process)
    {
        try
        {
            return process.StartTime.ToUniversalTime();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return DateTime.MinValue;
        }
    }
}
