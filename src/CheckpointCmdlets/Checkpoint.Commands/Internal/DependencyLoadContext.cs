using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// On PowerShell 7, loads the module's own dependencies that PowerShell does not ship (CsvHelper, Polly.Core
/// and theirs) into an AssemblyLoadContext of the module's own, so that another version of them that the
/// session already holds, or loads later with Add-Type, is no clash. Checkpoint.Core and Checkpoint.Commands
/// stay in the default context, because their types are the ones PowerShell must see: cmdlets, parameters,
/// outputs and the type names scripts write.
/// </summary>
/// <remarks>
/// The assembly is built once for netstandard2.0, which has no AssemblyLoadContext: the type is found by
/// reflection, as PSResourceGet does, and on Windows PowerShell 5.1 there is none, so nothing changes there.
/// The handler is added to the default context's Resolving event, which .NET raises when a reference from
/// Checkpoint.Core finds no assembly of that name in the default context, or only a lower version; it runs
/// before the AppDomain's AssemblyResolve handler that loads files beside the module into the default context.
/// </remarks>
internal static class DependencyLoadContext
{
    private const string ContextName = "Checkpoint";
    private const string LoadContextTypeName = "System.Runtime.Loader.AssemblyLoadContext";

    private static readonly object _gate = new();
    private static bool _started;
    private static object? _context;
    private static MethodInfo? _loadFromAssemblyPath;
    private static Dictionary<string, Dependency> _dependencies = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Creates the context and starts resolving the module's dependencies into it. Runs once per process:
    /// every later import (a worker runspace, Import-Module -Force) finds it started, and it is never stopped,
    /// because the assemblies it serves can never be unloaded either.
    /// </summary>
    public static void Start()
    {
        lock (_gate)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            Type? contextType = typeof(object).Assembly.GetType(LoadContextTypeName);
            if (contextType is null)
            {
                return;
            }

            string folder = Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!;
            _dependencies = FindPrivateDependencies(folder);
            if (_dependencies.Count == 0)
            {
                return;
            }

            _context = contextType.GetConstructor(new[] { typeof(string), typeof(bool) })!.Invoke(new object[] { ContextName, false });
            _loadFromAssemblyPath = contextType.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) })!;
            object defaultContext = contextType.GetProperty("Default")!.GetValue(null)!;
            EventInfo resolving = contextType.GetEvent("Resolving")!;
            MethodInfo handler = typeof(DependencyLoadContext).GetMethod(nameof(Resolve), BindingFlags.NonPublic | BindingFlags.Static)!;
            Delegate callback = Delegate.CreateDelegate(resolving.EventHandlerType!, handler);

            // The default context asks when Checkpoint.Core needs a dependency; the module's context asks when a
            // dependency loaded there needs another (Polly.Core needs Microsoft.Bcl.TimeProvider), after it has
            // found no such assembly in the default context, so that both get the same copy.
            resolving.AddEventHandler(defaultContext, callback);
            resolving.AddEventHandler(_context, callback);
        }
    }

    /// <summary>
    /// The module's copy of <paramref name="name"/>, loaded into the module's context, when it is one of its
    /// private dependencies and the version asked for is the one it ships (from the default context) or not
    /// above it (from the module's own); else null, so that .NET goes on looking as it would without this handler.
    /// </summary>
    private static Assembly? Resolve(object context, AssemblyName name)
    {
        lock (_gate)
        {
            if (name.Name is null || !_dependencies.TryGetValue(name.Name, out Dependency? dependency))
            {
                return null;
            }

            // The default context's event does not say who asks: another module that ships an older CsvHelper
            // beside it asks here first too, and must go on to load its own copy rather than be handed ours.
            // Checkpoint.Core asks for exactly the versions shipped with it; the module's own dependencies may
            // ask for a lower one (Polly.Core for Microsoft.Bcl.TimeProvider 8.0.0.0, shipped as 8.0.0.1).
            bool fromOwnContext = ReferenceEquals(context, _context);
            bool versionFits = name.Version is null
                || (fromOwnContext ? name.Version <= dependency.Name.Version : name.Version == dependency.Name.Version);
            if (!versionFits || !SameKey(name, dependency.Name))
            {
                return null;
            }

            dependency.Assembly ??= (Assembly)_loadFromAssemblyPath!.Invoke(_context, new object[] { dependency.Path })!;
            return dependency.Assembly;
        }
    }

    private static bool SameKey(AssemblyName requested, AssemblyName shipped)
    {
        byte[]? wanted = requested.GetPublicKeyToken();
        return wanted is null || wanted.Length == 0 || wanted.SequenceEqual(shipped.GetPublicKeyToken() ?? Array.Empty<byte>());
    }

    /// <summary>
    /// The assemblies beside the module that the running PowerShell does not provide itself. Those it provides
    /// (System.Text.Json, System.Memory and the other facades, its trusted platform assemblies) are left to
    /// the default context, whose version is the same or newer and which every module shares.
    /// </summary>
    private static Dictionary<string, Dependency> FindPrivateDependencies(string folder)
    {
        var platform = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string trusted)
        {
            foreach (string path in trusted.Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
            {
                platform.Add(Path.GetFileNameWithoutExtension(path));
            }
        }

        var own = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            typeof(DependencyLoadContext).Assembly.GetName().Name!,
            typeof(CheckpointManager).Assembly.GetName().Name!,
        };

        var found = new Dictionary<string, Dependency>(StringComparer.OrdinalIgnoreCase);
        foreach (string path in Directory.EnumerateFiles(folder, "*.dll"))
        {
            string simpleName = Path.GetFileNameWithoutExtension(path);
            if (own.Contains(simpleName) || platform.Contains(simpleName))
            {
                continue;
            }

            found[simpleName] = new Dependency(AssemblyName.GetAssemblyName(path), path);
        }

        return found;
    }

    private sealed class Dependency
    {
        public Dependency(AssemblyName name, string path)
        {
            Name = name;
            Path = path;
        }

        public AssemblyName Name { get; }

        public string Path { get; }

        public Assembly? Assembly { get; set; }
    }
}
