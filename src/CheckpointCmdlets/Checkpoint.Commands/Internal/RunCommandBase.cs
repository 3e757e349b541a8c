using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Linq;
using System.Reflection;
using System.Threading;
using Checkpoint.Store;
using Checkpoint.Runs;

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
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 1;

    /// <summary>Retries after a failed attempt.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The longest one attempt may take, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0 * 7)]
    public double TimeoutSeconds { get; set; }

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
    [ValidateRange(0.0, 3600.0)]
    public double RetryDelaySeconds { get; set; } = 1;

    /// <summary>The longest wait between retries, Retry-After included, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.0, 86400.0)]
    public double MaxRetryDelaySeconds { get; set; } = 120;

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
    [ValidateRange(1, int.MaxValue)]
    public int MaxConsecutiveFailures { get; set; } = 10;

    /// <summary>The longest an API outage is waited out, in minutes.</summary>
    [Parameter]
    [ValidateRange(0.0, 10080.0)]
    public double MaxOutageMinutes { get; set; } = 10;

    /// <summary>The first wait of an outage, in seconds; each later wait doubles.</summary>
    [Parameter]
    [ValidateRange(0.0, 86400.0)]
    public double OutageWaitSeconds { get; set; } = 30;

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
    [ValidateRange(1e-9, double.MaxValue)]
    public decimal MaxCost { get; set; }

    /// <summary>For -WhatIf estimates before any sample has a cost: the expected cost of one sample.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public decimal EstimatedCostPerSample { get; set; }

    private static readonly (string Setting, string Parameter)[] s_savedParameters =
    {
        (RunSettings.MaxRetries, nameof(MaxRetries)),
        (RunSettings.ThrottleLimit, nameof(ThrottleLimit)),
        (RunSettings.TimeoutSeconds, nameof(TimeoutSeconds)),
        (RunSettings.RetryDelaySeconds, nameof(RetryDelaySeconds)),
        (RunSettings.MaxRetryDelaySeconds, nameof(MaxRetryDelaySeconds)),
        (RunSettings.RetryOn, nameof(RetryOn)),
        (RunSettings.NoRetryOn, nameof(NoRetryOn)),
        (RunSettings.MaxConsecutiveFailures, nameof(MaxConsecutiveFailures)),
        (RunSettings.MaxOutageMinutes, nameof(MaxOutageMinutes)),
        (RunSettings.OutageWaitSeconds, nameof(OutageWaitSeconds)),
        (RunSettings.ImportModule, nameof(ImportModule)),
        (RunSettings.Pricing, nameof(Pricing)),
        (RunSettings.PricingFile, nameof(PricingFile)),
        (RunSettings.MaxCost, nameof(MaxCost)),
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

    /// <summary>Copies the run-time parameters onto <paramref name="plan"/>, and keeps them in its settings for a resume.</summary>
    protected void ApplyRunParameters(RunPlan plan)
    {
        // Worker runspaces do not share the caller's location: module paths are kept absolute.
        ImportModule = Array.ConvertAll(ImportModule, m => IsModulePath(m) ? CommandPaths.Resolve(this, m) : m);
        plan.MaxRetries = MaxRetries;
        plan.Limit = MyInvocation.BoundParameters.ContainsKey(nameof(Limit)) ? Limit : null;
        plan.SkipFailed = SkipFailed.IsPresent;
        plan.ThrottleLimit = ThrottleLimit;
        plan.Timeout = TimeoutSeconds > 0 ? TimeSpan.FromSeconds(TimeoutSeconds) : null;
        plan.RetryDelay = TimeSpan.FromSeconds(RetryDelaySeconds);
        plan.MaxRetryDelay = TimeSpan.FromSeconds(MaxRetryDelaySeconds);
        plan.RetryRules = new RetryRules(RetryOn, NoRetryOn);
        plan.MaxConsecutiveFailures = MaxConsecutiveFailures;
        plan.MaxOutage = TimeSpan.FromMinutes(MaxOutageMinutes);
        plan.OutageWait = TimeSpan.FromSeconds(OutageWaitSeconds);
        plan.MaxCost = MaxCost > 0 ? MaxCost : null;
        plan.EstimatedCostPerSample = MyInvocation.BoundParameters.ContainsKey(nameof(EstimatedCostPerSample)) ? EstimatedCostPerSample : null;
        Costs.PricingTable pricing;
        try
        {
            pricing = LoadPricing();
        }
        catch (CheckpointException e)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
            throw;
        }

        plan.Price = pricing.For(plan.Model);
        if (plan.MaxCost is not null && plan.Price is null)
        {
            WriteWarning($"-MaxCost is set, but the model '{plan.Model}' has no price in {pricing.Source}: only costs the block reports with $CheckpointContext.AddCost count toward the budget. Give its price with -Pricing or -PricingFile.");
        }
        foreach ((string setting, string parameter) in s_savedParameters)
        {
            plan.Settings[setting] = GetType().GetProperty(parameter)!.GetValue(this);
        }
    }

    // -Pricing, else -PricingFile, else the pricing.json shipped beside the module (when present).
    private Costs.PricingTable LoadPricing()
    {
        if (Pricing is not null)
        {
            return Costs.PricingTable.FromDictionary(Pricing);
        }

        string file = PricingFile is not null
            ? CommandPaths.Resolve(this, PricingFile)
            : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(typeof(RunCommandBase).Assembly.Location) ?? ".", "pricing.json");
        return PricingFile is null && !System.IO.File.Exists(file) ? Costs.PricingTable.Empty : Costs.PricingTable.FromFile(file);
    }

    /// <summary>
    /// Sets the run-time parameters that were not given from what <paramref name="state"/> kept, so a resume
    /// runs as the start did unless told otherwise. Returns why a kept value cannot be used (a state file
    /// changed by hand can hold anything), or null; the values are held to the parameters' own ranges, as
    /// given values are, before any sample runs. Call it once, on a command whose run-time parameters still
    /// hold their defaults.
    /// </summary>
    protected string? RestoreRunParameters(RunState state)
    {
        foreach ((string setting, string parameter) in s_savedParameters)
        {
            if (MyInvocation.BoundParameters.ContainsKey(parameter) || !state.Settings.TryGetValue(setting, out object? value) || value is null)
            {
                continue;
            }

            PropertyInfo property = GetType().GetProperty(parameter)!;
            object? restored;
            try
            {
                restored = LanguagePrimitives.ConvertTo(ConfigConverter.FromStored(value), property.PropertyType, CultureInfo.InvariantCulture);
            }
            catch (PSInvalidCastException)
            {
                return $"its state file keeps {setting} = {value}, which -{parameter} does not take";
            }

            // A parameter's own default (TimeoutSeconds 0: none) is kept as it is, in range or not.
            if (!Equals(restored, property.GetValue(this))
                && property.GetCustomAttribute<ValidateRangeAttribute>() is ValidateRangeAttribute range && !IsInRange(restored, range))
            {
                return string.Format(CultureInfo.InvariantCulture, "its state file keeps {0} = {1}, outside the range of -{2} ({3} to {4})", setting, restored, parameter, range.MinRange, range.MaxRange);
            }

            property.SetValue(this, restored);
        }

        return null;
    }

    // Compared in the bounds' own type: a bound need not fit the parameter's type (-MaxCost is a decimal, and
    // its upper bound double.MaxValue is beyond any decimal). A value the bounds' type cannot hold is out of range.
    private static bool IsInRange(object? value, ValidateRangeAttribute range)
    {
        try
        {
            return value is not null && CompareTo(value, range.MinRange) >= 0 && CompareTo(value, range.MaxRange) <= 0;
        }
        catch (PSInvalidCastException)
        {
            return false;
        }
    }

    private static int CompareTo(object value, object bound) =>
        ((IComparable)LanguagePrimitives.ConvertTo(value, bound.GetType(), CultureInfo.InvariantCulture)).CompareTo(bound);

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
    private void CheckImportModule()
    {
        foreach (string module in ImportModule)
        {
            if (_modulesFound.Contains(module))
            {
                continue;
            }

            bool isPath = IsModulePath(module);
            if (!(isPath ? System.IO.File.Exists(module) || System.IO.Directory.Exists(module) : IsOnModulePath(module)))
            {
                throw new CheckpointException(
                    ErrorRecords.ImportModuleNotFound,
                    $"-ImportModule '{module}' names no module: it is {(isPath ? "not an existing file or folder" : "not on PSModulePath")}. Give the path of its .psd1 or .psm1, or install it.")
                { Target = module };
            }

            _modulesFound.Add(module);
        }
    }

    /// <summary>
    /// Runs <paramref name="plan"/> with <paramref name="block"/>, or, under -WhatIf, says what it would do.
    /// Writes the summary. A problem with this run's input is written as an error and the next run goes on;
    /// a failure to write a checkpoint stops the command.
    /// </summary>
    protected void Run(RunPlan plan, ScriptBlock block)
    {
        var engine = new RunEngine(plan);
        try
        {
            CheckImportModule();
            string target = plan.Model + " on " + plan.DatasetPath + (plan.Shard is null ? string.Empty : " shard " + plan.Shard);
            if (IsWhatIf())
            {
                RunPreview preview = engine.Preview();
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
            using var factory = new ScriptBlockProcessorFactory(block, BlockText.From(block, this), plan.RetryRules, ImportModule, SessionState.Path.CurrentFileSystemLocation.ProviderPath, plan.RunsInline ? 0 : plan.ThrottleLimit);
            RunSummary summary;
            try
            {
                summary = engine.Execute(factory, observer, StopToken);
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
        catch (CheckpointException e) when (e.ErrorId is ErrorIds.CheckpointWriteFailed or ErrorIds.OutputDirectoryUnwritable or ErrorIds.ApiOutage or ErrorIds.LeaseLost or ErrorIds.InvalidLeaseSeconds or Costs.PricingTable.InvalidPricing)
        {
            ThrowTerminatingError(ErrorRecords.From(e));
        }
        catch (CheckpointException e)
        {
            WriteError(ErrorRecords.From(e));
        }
    }
}
