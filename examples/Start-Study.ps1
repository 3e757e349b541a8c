<#
.SYNOPSIS
    The self-correction study over several models and datasets: the cost estimate first, then every
    model x dataset run of gsm8k-self-correction.ps1, then one table of all the runs.

.DESCRIPTION
    1. Prints what each run would do and cost (Start-CheckpointRun -WhatIf, through gsm8k-self-correction.ps1):
       runs already under way are estimated from their completed problems, new ones from
       -EstimatedCostPerSample. Nothing is called.
    2. Runs every model on every dataset (one run per pair; each resumes where it stopped, so the whole study
       can be started again after a crash, a budget stop or Ctrl+C, and pays for nothing twice).
    3. Prints one Get-CheckpointStats table for all the runs: status, problems done, tokens and cost.

    With -WhatIf it stops after the estimate. Summarise a run's results with Summarize-SelfCorrection.ps1.

.EXAMPLE
    $env:OPENAI_API_KEY = '...'
    ./Start-Study.ps1 -Model gpt-4o-mini, gpt-4.1-mini -Dataset data/gsm8k-test.jsonl -Limit 200 -MaxCost 2 -EstimatedCostPerSample 0.0005

.EXAMPLE
    # The estimate alone.
    ./Start-Study.ps1 -Model gpt-4o, claude-sonnet -Dataset data/*.jsonl -EstimatedCostPerSample 0.004 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The models, as the endpoint knows them.
    [Parameter(Mandatory)][string[]] $Model,

    # GSM8K-style files (.jsonl or .csv with 'question' and 'answer'); wildcards allowed.
    [Parameter(Mandatory)][string[]] $Dataset,

    # The base URL of an OpenAI-compatible API (default: OPENAI_BASE_URL, else https://api.openai.com/v1).
    [string] $Endpoint = $(if ($env:OPENAI_BASE_URL) { $env:OPENAI_BASE_URL } else { 'https://api.openai.com/v1' }),

    # The API key (default: OPENAI_API_KEY). Never written to disk.
    [string] $ApiKey = $env:OPENAI_API_KEY,

    # The expected cost of one problem, for the estimate of runs that have no cost yet.
    [ValidateRange(0.0, [double]::MaxValue)][decimal] $EstimatedCostPerSample = 0.001,

    # Process at most this many pending problems per run.
    [ValidateRange(1, [int]::MaxValue)][int] $Limit,

    # Problems in flight at once, per run.
    [ValidateRange(1, 1024)][int] $ThrottleLimit = 4,

    # Stop each run once its cost reaches this many dollars.
    [ValidateRange(0.0, [double]::MaxValue)][decimal] $MaxCost,

    # Where the runs' files go.
    [string] $OutputDirectory = 'outputs',

    # Prices by model as JSON; by default the pricing.json shipped with the module.
    [string] $PricingFile,

    # Sampling temperature.
    [double] $Temperature = 0,

    # The Checkpoint module to import: a name or a path.
    [string] $Module = 'Checkpoint',

    # Also write the Get-CheckpointStats objects of the study's runs to the pipeline.
    [switch] $PassThru
)

$ErrorActionPreference = 'Stop'
Import-Module $Module -ErrorAction Stop
$study = Join-Path $PSScriptRoot 'gsm8k-self-correction.ps1'
$common = @{
    Dataset         = $Dataset
    Model           = $Model
    Endpoint        = $Endpoint
    ApiKey          = $ApiKey
    ThrottleLimit   = $ThrottleLimit
    OutputDirectory = $OutputDirectory
    Temperature     = $Temperature
    Module          = $Module
}
foreach ($name in 'Limit', 'MaxCost', 'PricingFile') {
    if ($PSBoundParameters.ContainsKey($name)) { $common[$name] = $PSBoundParameters[$name] }
}

Write-Host "== Cost estimate: $($Model.Count) model(s) x $($Dataset.Count) dataset(s); nothing is called" -ForegroundColor Cyan
& $study @common -EstimatedCostPerSample $EstimatedCostPerSample -WhatIf

if ($WhatIfPreference) { return }

Write-Host "`n== Running" -ForegroundColor Cyan
$summaries = @(& $study @common -WhatIf:$false)
foreach ($summary in $summaries) {
    Write-Host ("{0}: {1}, {2} of {3} done, {4} failed, {5} processed now in {6:hh\:mm\:ss}" -f $summary.RunId, $summary.Status,
        $summary.CompletedSamples, $summary.TotalSamples, $summary.FailedSamples, $summary.ProcessedThisRun, $summary.Duration)
}

if ($summaries.Count -eq 0) {
    Write-Warning 'No run was made (no dataset found?).'
    return
}

Write-Host '== All runs of the study' -ForegroundColor Cyan
$stats = @(Get-CheckpointStats -RunId @($summaries.RunId | Select-Object -Unique) -OutputDirectory $OutputDirectory)
# Wide enough for every column, whatever the console (or log file) width.
$columns = 'Model', @{ n = 'Dataset'; e = { Split-Path -Leaf $_.Dataset } }, 'Status', @{ n = 'Done'; e = { $_.CompletedSamples } },
    @{ n = 'Total'; e = { $_.TotalSamples } }, @{ n = 'Failed'; e = { $_.FailedSamples } }, 'InputTokens', 'OutputTokens',
    @{ n = 'TotalCost'; e = { $_.TotalCost }; f = '0.######' }, @{ n = 'PerSample'; e = { $_.AverageCostPerSample }; f = '0.######' },
    @{ n = 'ToFinish'; e = { $_.EstimatedRemainingCost }; f = '0.######' }
Write-Host (($stats | Format-Table $columns -AutoSize | Out-String -Width 400).TrimEnd())
$total = ($stats | Measure-Object TotalCost -Sum).Sum
Write-Host ("Study cost so far: {0}; summarise a run with Summarize-SelfCorrection.ps1 -RunId <RunId> -OutputDirectory {1}" -f ([decimal]$total).ToString('0.######', [System.Globalization.CultureInfo]::InvariantCulture), $OutputDirectory)
if ($PassThru) { $stats }
