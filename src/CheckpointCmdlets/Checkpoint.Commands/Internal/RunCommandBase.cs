using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Linq;
using System.Threading;
using Checkpoint.Store;
using Checkpoint.Runs;
using Checkpoint.Commands.Blocks;

namespace Checkpoint.Commands.Internal;

/// <summary>
/// What Start-CheckpointRun and Resume-CheckpointRun share: the run-time parameters, the stop handling, and
/// running one plan with its errors turned into ErrorRecords. Not a cmdlet itself.
/// </summary>
public abstract class RunCommandBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();
    private int _activityId;

    // -ImportModule entries already found, so that a command running several runs (shards, datasets) scans
    // PSModulePath for each name once.
    private readonly HashSet<string> _modulesFound = new(StringComparer.Ordinal);

    /// <summary>Samples in flight at once.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.ThrottleLimitMin, KeptSettings.ThrottleLimitMax)]
    public int ThrottleLimit { get; set; } = KeptSettings.ThrottleLimitDefault;

    /// <summary>Retries after a failed attempt.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.MaxRetriesMin, KeptSettings.MaxRetriesMax)]
    public int MaxRetries { get; set; } = KeptSettings.MaxRetriesDefault;

    /// <summary>The longest one attempt may take, in seconds.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.TimeoutSecondsMin, KeptSettings.TimeoutSecondsMax)]
    public double TimeoutSeconds { get; set; } = KeptSettings.TimeoutSecondsDefault;

    /// <summary>Process at most this many pending samples per run.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Limit { get; set; }

    /// <summary>Also emit one SampleResult per sample processed now, as each completes.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Leave samples whose latest attempt failed alone.</summary>
    [Parameter]
    public SwitchParameter SkipFailed { get; set; }

    /// <summary>The base delay of the exponential backoff between retries, in seconds.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.RetryDelaySecondsMin, KeptSettings.RetryDelaySecondsMax)]
    public double RetryDelaySeconds { get; set; } = KeptSettings.RetryDelaySecondsDefault;

    /// <summary>The longest wait between retries, Retry-After included, in seconds.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.MaxRetryDelaySecondsMin, KeptSettings.MaxRetryDelaySecondsMax)]
    public double MaxRetryDelaySeconds { get; set; } = KeptSettings.MaxRetryDelaySecondsDefault;

    /// <summary>Exception type names or HTTP status codes to treat as transient, beyond the built-in rule.</summary>
    [Parameter]
    [ValidatePattern(RetryRulePattern)]
    public string[] RetryOn { get; set; } = Array.Empty<string>();

    /// <summary>Exception type names or HTTP status codes never to retry.</summary>
    [Parameter]
    [ValidatePattern(RetryRulePattern)]
    public string[] NoRetryOn { get; set; } = Array.Empty<string>();

    // An HTTP status code (100-599) or an exception type name, short or full (letters, digits, _ . + `):
    // anything else could never match a failure, so a typo would silently change nothing.
    private const string RetryRulePattern = @"^\s*(?:[1-5][0-9]{2}|[A-Za-z_][A-Za-z0-9_.+`]*)\s*$";

    /// <summary>Transient failures in a row that mean the API is down.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.MaxConsecutiveFailuresMin, KeptSettings.MaxConsecutiveFailuresMax)]
    public int MaxConsecutiveFailures { get; set; } = KeptSettings.MaxConsecutiveFailuresDefault;

    /// <summary>The longest an API outage is waited out, in minutes.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.MaxOutageMinutesMin, KeptSettings.MaxOutageMinutesMax)]
    public double MaxOutageMinutes { get; set; } = KeptSettings.MaxOutageMinutesDefault;

    /// <summary>The first wait of an outage, in seconds; each later wait doubles.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.OutageWaitSecondsMin, KeptSettings.OutageWaitSecondsMax)]
    public double OutageWaitSeconds { get; set; } = KeptSettings.OutageWaitSecondsDefault;

    /// <summary>Modules to import into the runspaces of a parallel run (ThrottleLimit above 1, or -TimeoutSeconds).</summary>
    [Parameter]
    public string[] ImportModule { get; set; } = Array.Empty<string>();

    /// <summary>Prices by model: @{ 'gpt-4o' = @{ InputPerMillion = 2.50; OutputPerMillion = 10.00 } }.</summary>
    [Parameter]
    public System.Collections.Hashtable? Pricing { get; set; }

    /// <summary>A JSON file of prices by model; by default the pricing.json shipped with the module.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PricingFile { get; set; }

    /// <summary>Stop the run cleanly once its total cost reaches this budget.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.MaxCostMin, KeptSettings.MaxCostMax)]
    public decimal MaxCost { get; set; }

    /// <summary>Requests per minute this process starts at most (per shard); every worker shares it.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.RateLimitMin, KeptSettings.RateLimitMax)]
    public int RateLimit { get; set; }

    /// <summary>Tokens per minute this process uses at most (per shard), from the usage samples report.</summary>
    [Parameter]
    [ValidateRange(KeptSettings.RateLimitMin, KeptSettings.RateLimitMax)]
    public int TokenRateLimit { get; set; }

    /// <summary>For -WhatIf estimates before any sample has a cost: the expected cost of one sample.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public decimal EstimatedCostPerSample { get; set; }

    /// <summary>Where $CheckpointContext.Cached keeps calls; by default &lt;OutputDirectory&gt;/cache.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CacheDirectory { get; set; }

    /// <summary>Turn the response cache off: every $CheckpointContext.Cached call runs its block.</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    // The run-time parameters that set a kept setting of the run's definition (KeptSettings): a resume keeps
    // what the start was given unless the parameter is given again.
    private static readonly (string Parameter, Action<RunCommandBase, RunDefinition> Set)[] s_settingParameters =
    {
        (nameof(MaxRetries), (c, d) => d.MaxRetries = c.MaxRetries),
        (nameof(ThrottleLimit), (c, d) => d.ThrottleLimit = c.ThrottleLimit),
        (nameof(TimeoutSeconds), (c, d) => d.TimeoutSeconds = c.TimeoutSeconds),
        (nameof(RetryDelaySeconds), (c, d) => d.RetryDelaySeconds = c.RetryDelaySeconds),
        (nameof(MaxRetryDelaySeconds), (c, d) => d.MaxRetryDelaySeconds = c.MaxRetryDelaySeconds),
        (nameof(RetryOn), (c, d) => d.RetryOn = c.RetryOn),
        (nameof(NoRetryOn), (c, d) => d.NoRetryOn = c.NoRetryOn),
        (nameof(MaxConsecutiveFailures), (c, d) => d.MaxConsecutiveFailures = c.MaxConsecutiveFailures),
        (nameof(MaxOutageMinutes), (c, d) => d.MaxOutageMinutes = c.MaxOutageMinutes),
        (nameof(OutageWaitSeconds), (c, d) => d.OutageWaitSeconds = c.OutageWaitSeconds),
        (nameof(ImportModule), (c, d) => d.ImportModule = c.ImportModule),
        (nameof(Pricing), (c, d) => d.Pricing = c.Pricing),
        (nameof(PricingFile), (c, d) => d.PricingFile = c.PricingFile),
        (nameof(MaxCost), (c, d) => d.MaxCost = c.MaxCost),
        (nameof(RateLimit), (c, d) => d.RateLimit = c.RateLimit),
        (nameof(TokenRateLimit), (c, d) => d.TokenRateLimit = c.TokenRateLimit),
        (nameof(CacheDirectory), (c, d) => d.CacheDirectory = c.CacheDirectory),
        (nameof(NoCache), (c, d) => d.NoCache = c.NoCache.IsPresent),
    };

    private TerminationSignal? _termination;

    // Set by SIGTERM: once the run has closed its files, the process exits with 143 (128 + SIGTERM), so that a
    // scheduler (a Kubernetes Indexed Job, a Slurm requeue, systemd) sees the task as stopped, not finished.
    private volatile bool _terminating;

    /// <summary>The exit code after a SIGTERM stop, as a shell reports a process killed by the signal.</summary>
    private const int SigtermExitCode = 143;

    /// <summary>Cancelled when the user presses Ctrl+C (or the pipeline is stopped).</summary>
    protected CancellationToken StopToken => _cancellation.Token;

    /// <inheritdoc/>
    public void Dispose()
    {
        _termination?.Dispose();
        _cancellation.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    protected override void StopProcessing() => _cancellation.Cancel();

    /// <inheritdoc/>
    protected override void BeginProcessing() => _termination = TerminationSignal.Watch(() =>
    {
        _terminating = true;
        _cancellation.Cancel();
    });

    /// <inheritdoc/>
    protected override void EndProcessing() => _termination?.Dispose();

    /// <summary>True when -WhatIf is in effect.</summary>
    protected bool IsWhatIf() => WhatIf.IsActive(this);

    /// <summary>
    /// Sets the fields of <paramref name="plan"/>'s definition that the run-time parameters given on the command
    /// line name, and what applies to this call alone (-Limit, -SkipFailed, -EstimatedCostPerSample, the price).
    /// A field no parameter names keeps its value: the default for a start, what the run kept for a resume.
    /// </summary>
    protected void ApplyRunParameters(RunPlan plan)
    {
        RunDefinition definition = plan.Definition;
        foreach ((string parameter, Action<RunCommandBase, RunDefinition> set) in s_settingParameters)
        {
            if (IsGiven(parameter))
            {
                set(this, definition);
            }
        }

        // Worker runspaces do not share the caller's location: module paths are kept absolute.
        definition.ImportModule = definition.ImportModule.Select(m => IsModulePath(m) ? CommandPaths.Resolve(this, m) : m).ToArray();
        plan.Limit = IsGiven(nameof(Limit)) ? Limit : null;
        plan.SkipFailed = SkipFailed.IsPresent;
        plan.EstimatedCostPerSample = IsGiven(nameof(EstimatedCostPerSample)) ? EstimatedCostPerSample : null;
        Costs.PricingTable pricing;
        try
        {
            pricing = LoadPricing(definition);
        }
        catch (CheckpointException e)
        {
            ErrorRecords.Report(this, e);
            throw;
        }

        plan.Price = pricing.For(definition.Model);
        if (definition.MaxCost is not null && plan.Price is null)
        {
            WriteWarning($"-MaxCost is set, but the model '{definition.Model}' has no price in {pricing.Source}: only costs the block reports with $CheckpointContext.AddCost count toward the budget. Give its price with -Pricing or -PricingFile.");
        }
    }

    /// <summary>True when <paramref name="parameter"/> was given on the command line (or bound from the pipeline).</summary>
    protected bool IsGiven(string parameter) => MyInvocation.BoundParameters.ContainsKey(parameter);

    // -Pricing, else -PricingFile, else the pricing.json shipped beside the module (when present).
    private Costs.PricingTable LoadPricing(RunDefinition definition)
    {
        if (definition.Pricing is not null)
        {
            return Costs.PricingTable.FromDictionary(definition.Pricing);
        }

        string file = definition.PricingFile is not null
            ? CommandPaths.Resolve(this, definition.PricingFile)
            : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(RunCommandBase).Assembly.Location) ?? ".", "pricing.json");
        return definition.PricingFile is null && !System.IO.File.Exists(file) ? Costs.PricingTable.Empty : Costs.PricingTable.FromFile(file);
    }

    private static bool IsModulePath(string module) =>
        module.IndexOfAny(new[] { '/', '\\' }) >= 0 || module.StartsWith("~", StringComparison.Ordinal)
        || module.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase) || module.EndsWith(".psm1", StringComparison.OrdinalIgnoreCase)
        || module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);

    private static bool IsOnModulePath(string name)
    {
        using PowerShell shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
        return shell.AddCommand("Microsoft.PowerShell.Core\\Get-Module").AddParameter("ListAvailable").AddParameter("Name", name).Invoke().Count > 0;
    }

    // Each -ImportModule entry must name a file or folder, or a module on PSModulePath, before anything runs:
    // a worker runspace would otherwise open without it, and every sample would fail on its commands.
    private void CheckImportModule(RunDefinition definition)
    {
        foreach (string module in definition.ImportModule)
        {
            if (_modulesFound.Contains(module))
            {
                continue;
            }

            bool isPath = IsModulePath(module);
            if (!(isPath ? System.IO.File.Exists(module) || System.IO.Directory.Exists(module) : IsOnModulePath(module)))
            {
                throw new CheckpointException(
                    ErrorIds.ImportModuleNotFound,
                    $"-ImportModule '{module}' names no module: it is {(isPath ? "not an existing file or folder" : "not on PSModulePath")}. Give the path of its .psd1 or .psm1, or install it.")
                { Target = module };
            }

            _modulesFound.Add(module);
        }
    }

    /// <summary>
    /// Runs <paramref name="plan"/> with <paramref name="block"/>, or, under -WhatIf, says what it would do.
    /// Writes the summary. An error ends the command or is written while the next run goes on, as
    /// <see cref="ErrorIds.EndsCommand"/> says.
    /// </summary>
    protected void Run(RunPlan plan, ScriptBlock block)
    {
        var launcher = new RunLauncher(plan);
        try
        {
            RunDefinition definition = plan.Definition;
            CheckImportModule(definition);
            string? cacheDirectory = CacheDirectoryOf(plan);
            string target = definition.Model + " on " + definition.DatasetPath + (definition.Shard is null ? string.Empty : " shard " + definition.Shard);
            if (IsWhatIf())
            {
                RunPreview preview = launcher.Preview();
                string message = string.Format(
                    CultureInfo.InvariantCulture,
                    "Run {0}: {1} samples, {2} done, {3} pending, {4} failed; would process {5}; cost so far {6:0.######}, estimated cost of this run {7}.",
                    preview.RunId,
                    preview.Total,
                    preview.Completed,
                    preview.Pending,
                    preview.Failed,
                    preview.ToProcess,
                    preview.CostSoFar,
                    preview.EstimatedCost is decimal estimate
                        ? estimate.ToString("0.######", CultureInfo.InvariantCulture) + (preview.Completed > 0 && preview.CostSoFar > 0 ? " (from the completed samples)" : " (from -EstimatedCostPerSample)")
                        : "unknown (no sample has a cost yet; give -EstimatedCostPerSample)");
                ShouldProcess(message, message, "Start-CheckpointRun");
                return;
            }

            if (!ShouldProcess(target, "Run"))
            {
                return;
            }

            var observer = new CmdletObserver(this, PassThru.IsPresent, ++_activityId);
            var calls = new Cache.CachedCalls(OpenCache(cacheDirectory), plan.Price, PowerShellCacheHost.Instance);
            using var factory = new ScriptBlockProcessorFactory(block, BlockText.From(block, this), definition.RetryRules, definition.ImportModule.ToArray(), SessionState.Path.CurrentFileSystemLocation.ProviderPath, definition.RunsInline ? 0 : definition.ThrottleLimit, calls);
            RunSummary summary;
            try
            {
                summary = launcher.Execute(factory, observer, StopToken);
            }
            finally
            {
                if (_terminating)
                {
                    // The run is closed (its state says Interrupted); nothing else of this process may go on.
                    Environment.Exit(SigtermExitCode);
                }
            }

            WriteObject(summary);
        }
        catch (CheckpointException e)
        {
            // A problem with this run's input is written and the next run goes on; what ends the command
            // (a checkpoint that could not be written, an outage, a lost lease) is for the table to say.
            ErrorRecords.Report(this, e);
        }
    }

    // The response cache's folder, checked before anything runs; null with -NoCache.
    private string? CacheDirectoryOf(RunPlan plan)
    {
        RunDefinition definition = plan.Definition;
        if (IsGiven(nameof(CacheDirectory)) && NoCache.IsPresent)
        {
            throw new CheckpointException(ErrorIds.CacheDirectoryInvalid, "-CacheDirectory and -NoCache were both given. Give one: a cache folder, or no cache.") { Target = CacheDirectory };
        }

        if (definition.NoCache)
        {
            return null;
        }

        string directory = definition.CacheDirectory is string given
            ? CommandPaths.Resolve(this, given)
            : System.IO.Path.Combine(CommandPaths.Resolve(this, plan.OutputDirectory), "cache");
        if (System.IO.File.Exists(directory))
        {
            throw new CheckpointException(ErrorIds.CacheDirectoryInvalid, $"The cache directory '{directory}' is a file. Give -CacheDirectory a folder, or -NoCache.") { Target = directory };
        }

        return directory;
    }

    // Opens (and on first use in this process loads) the cache, and says what damage the load found.
    private Cache.CacheStore? OpenCache(string? directory)
    {
        if (directory is null)
        {
            return null;
        }

        Cache.CacheStore store = Cache.CacheStore.Open(directory);
        foreach (string warning in store.TakeWarnings())
        {
            WriteWarning(warning);
        }

        WriteVerbose($"Response cache: {store.Directory} ({store.Count.ToString(CultureInfo.InvariantCulture)} entries).");
        return store;
    }
}
