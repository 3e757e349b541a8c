using System;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// Turns SIGTERM (what Slurm, Kubernetes and systemd send before they kill) into a clean stop: the run's
/// token is cancelled and the process gets SIGINT, which PowerShell handles as Ctrl+C, stopping a block that
/// is running in the caller's runspace. The default action (immediate exit) is suppressed so that the run
/// can sync its files and write its state first. Needs .NET 6 or later (PowerShell 7); elsewhere a no-op.
/// </summary>
internal sealed class TerminationSignal : IDisposable
{
    private const int SigInt = 2;
    private readonly Action _onSignal;
    private readonly IDisposable? _registration;

    private TerminationSignal(Action onSignal)
    {
        _onSignal = onSignal;
        _registration = Register();
    }

    /// <summary>Calls <paramref name="onSignal"/> (on another thread) when SIGTERM arrives, until disposed.</summary>
    public static TerminationSignal Watch(Action onSignal) => new(onSignal);

    public void Dispose() => _registration?.Dispose();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private IDisposable? Register()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return null;
        }

        // PosixSignalRegistration.Create(PosixSignal.SIGTERM, Action<PosixSignalContext>), bound by reflection
        // because netstandard2.0 cannot name it.
        Type? registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices", throwOnError: false);
        Type? signal = Type.GetType("System.Runtime.InteropServices.PosixSignal, System.Runtime.InteropServices", throwOnError: false);
        Type? context = Type.GetType("System.Runtime.InteropServices.PosixSignalContext, System.Runtime.InteropServices", throwOnError: false);
        if (registration is null || signal is null || context is null)
        {
            return null;
        }

        MethodInfo handler = typeof(TerminationSignal).GetMethod(nameof(Handle), BindingFlags.NonPublic | BindingFlags.Instance)!.MakeGenericMethod(context);
        Delegate callback = Delegate.CreateDelegate(typeof(Action<>).MakeGenericType(context), this, handler);
        MethodInfo create = registration.GetMethod("Create", new[] { signal, callback.GetType() })!;
        object sigterm = Enum.Parse(signal, "SIGTERM");
        return (IDisposable?)create.Invoke(null, new[] { sigterm, callback });
    }

    private void Handle<TContext>(TContext context)
    {
        context!.GetType().GetProperty("Cancel")?.SetValue(context, true);
        _onSignal();
        try
        {
            _ = Kill(Process.GetCurrentProcess().Id, SigInt);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Without libc the token alone stops the run between attempts.
        }
    }
}
