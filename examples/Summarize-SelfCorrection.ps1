<#
.SYNOPSIS
    Summarises runs of gsm8k-self-correction.ps1: accuracy before and after self-correction, the four-way
    table (counts and shares), and what the run cost.

.DESCRIPTION
    Reads the completed results of each run with Get-CheckpointResult and its totals with Get-CheckpointStats,
    and prints, for each run:

      - accuracy before self-correction (initial answers) and after (revised answers), over the completed
        problems, and the change in percentage points;
      - the four-way table: correct->correct, correct->incorrect, incorrect->correct, incorrect->incorrect,
        with counts and shares;
      - the cost: total cost, input and output tokens, cost per problem, and the estimated cost of the rest;
      - cached against paid calls: the calls taken from the response cache (CacheHits) and what they would
        have cost at the run's prices (CachedCost), beside the total that was paid.

    The table rows (RunId, Model, Class, Count, Share) are also written to the pipeline, and to -CsvPath as
    CSV when given (pipe to Out-Null to see the report alone). Problems that failed or are not done yet are
    not in the table; the report says how many.

.EXAMPLE
    ./Summarize-SelfCorrection.ps1 -RunId *_gsm8k-test_gpt-4o-mini_* -OutputDirectory outputs

.EXAMPLE
    ./Summarize-SelfCorrection.ps1 -Path outputs/20250601_gsm8k-test_llama3.1-8b_1a2b3c4d.jsonl -CsvPath table.csv | Out-Null
#>
[CmdletBinding(DefaultParameterSetName = 'RunId')]
param(
    # The runs (wildcards allowed); every run found is summarised on its own.
    [Parameter(Mandatory, Position = 0, ParameterSetName = 'RunId')][string[]] $RunId,

    # A run's .jsonl file.
    [Parameter(Mandatory, ParameterSetName = 'Path')][string] $Path,

    # Where the runs live.
    [Parameter(ParameterSetName = 'RunId')][string] $OutputDirectory = 'outputs',

    # Also write the table to this CSV file.
    [string] $CsvPath,

    # The Checkpoint module to import: a name or a path.
    [string] $Module = 'Checkpoint'
)

$ErrorActionPreference = 'Stop'
Import-Module $Module -ErrorAction Stop

$classes = 'correct->correct', 'correct->incorrect', 'incorrect->correct', 'incorrect->incorrect'
$invariant = [System.Globalization.CultureInfo]::InvariantCulture
function Format-Percent([double] $Fraction) { return (100 * $Fraction).ToString('0.0', $invariant) + '%' }

$display = [System.Management.Automation.PSMemberInfo[]]@(
    [System.Management.Automation.PSPropertySet]::new('DefaultDisplayPropertySet', [string[]]('Model', 'Class', 'Count', 'Share')))
$select = if ($PSCmdlet.ParameterSetName -eq 'Path') { @{ Path = $Path } } else { @{ RunId = $RunId; OutputDirectory = $OutputDirectory } }
$allStats = @(Get-CheckpointStats @select)
if ($allStats.Count -eq 0) { throw 'No run found.' }

$resultsByRun = @{}
foreach ($result in Get-CheckpointResult @select -Status Completed) {
    if (-not $resultsByRun.ContainsKey($result.RunId)) { $resultsByRun[$result.RunId] = [System.Collections.Generic.List[object]]::new() }
    $resultsByRun[$result.RunId].Add($result)
}

$table = foreach ($stats in $allStats) {
    $results = if ($resultsByRun.ContainsKey($stats.RunId)) { $resultsByRun[$stats.RunId] } else { @() }
    $n = $results.Count
    $counts = @{}
    foreach ($class in $classes) { $counts[$class] = 0 }
    foreach ($result in $results) {
        $class = [string]$result.Output.class
        if ($counts.ContainsKey($class)) { $counts[$class]++ }
    }
    $before = if ($n) { ($counts['correct->correct'] + $counts['correct->incorrect']) / $n } else { 0 }
    $after = if ($n) { ($counts['correct->correct'] + $counts['incorrect->correct']) / $n } else { 0 }
    $change = (100 * ($after - $before)).ToString('+0.0;-0.0;0.0', $invariant)

    Write-Host ''
    Write-Host "Run $($stats.RunId): model $($stats.Model), $($stats.Status), $n of $($stats.TotalSamples) problems scored ($($stats.FailedSamples) failed, $($stats.PendingSamples) pending)"
    Write-Host "  Accuracy before self-correction: $(Format-Percent $before) ($($counts['correct->correct'] + $counts['correct->incorrect'])/$n)"
    Write-Host "  Accuracy after self-correction:  $(Format-Percent $after) ($($counts['correct->correct'] + $counts['incorrect->correct'])/$n), $change points"
    Write-Host ("  Cost: {0} total, {1} input + {2} output tokens, {3} per problem, about {4} to finish" -f
        $stats.TotalCost.ToString('0.######', $invariant), $stats.InputTokens, $stats.OutputTokens,
        $stats.AverageCostPerSample.ToString('0.######', $invariant), $stats.EstimatedRemainingCost.ToString('0.######', $invariant))
    # Cached calls cost nothing: the total above is what was paid, and this is what the cache saved.
    Write-Host ("  Calls from the response cache: {0}, worth {1} at the run's prices, not paid" -f
        [long]$stats.CacheHits, ([decimal]$stats.CachedCost).ToString('0.######', $invariant))

    $rows = foreach ($class in $classes) {
        $row = [pscustomobject]@{
            RunId = $stats.RunId
            Model = $stats.Model
            Class = $class
            Count = $counts[$class]
            Share = if ($n) { [math]::Round($counts[$class] / $n, 4) } else { 0 }
        }
        # Shown as a short table when not captured; Export-Csv and Select-Object still see every property.
        $row | Add-Member -MemberType MemberSet -Name PSStandardMembers -Value $display
        $row
    }
    Write-Host (($rows | Format-Table Class, Count, @{ n = 'Share'; e = { Format-Percent $_.Share }; a = 'Right' } -AutoSize | Out-String).TrimEnd())
    $rows
}

if ($CsvPath) {
    $table | Export-Csv -LiteralPath $CsvPath -NoTypeInformation
    Write-Host "Table written to $CsvPath"
}

$table
