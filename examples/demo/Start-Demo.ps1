<#
.SYNOPSIS
    A one-minute tour: a run that fails on some samples, is stopped halfway, resumes, and reports.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $OutputDirectory = (Join-Path ([IO.Path]::GetTempPath()) "checkpoint-demo-$PID")
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$dataset = Join-Path $PSScriptRoot 'arithmetic.csv'

# The work for one sample: here it computes the answer itself; in a study it would call a model.
# Samples whose id ends in 3 or 7 fail on their first attempts, as a flaky API would.
$process = {
    if ($_.id -match '[37]$' -and $CheckpointContext.Attempt -lt 3) {
        throw [System.TimeoutException]::new("The model did not answer in time (attempt $($CheckpointContext.Attempt)).")
    }
    $expression = $_.question -replace '^What is (.*)\?$', '$1'
    [pscustomobject]@{
        question = $_.question
        answer   = [int](Invoke-Expression $expression)
        expected = [int](($_.answer -split '#### ')[-1])
    }
}

Write-Host "== 1. Start: 12 samples, no retries, so the flaky ones fail" -ForegroundColor Cyan
Start-CheckpointRun -Dataset $dataset -Model demo-model -Process $process -OutputDirectory $OutputDirectory `
    -Limit 12 -MaxRetries 0 -Verbose 4>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { "  $($_.Message)" } else { $_ } } |
    Out-Host

Write-Host "`n== 2. Resume: completed samples are skipped, failed ones retried (with up to 3 retries now)" -ForegroundColor Cyan
Resume-CheckpointRun -Latest -OutputDirectory $OutputDirectory -MaxRetries 3 | Out-Host

Write-Host "`n== 3. Stats (Get-CheckpointStats | Export-Csv works too)" -ForegroundColor Cyan
Get-CheckpointStats -OutputDirectory $OutputDirectory | Format-List RunId, Status, TotalSamples, CompletedSamples, FailedSamples, ErrorCount, PercentComplete | Out-Host

Write-Host "== 4. Results of the samples that needed retries" -ForegroundColor Cyan
Get-CheckpointResult -RunId * -OutputDirectory $OutputDirectory | Where-Object Attempt -GT 1 |
    Select-Object SampleId, Attempt, @{ n = 'Answer'; e = { $_.Output.answer } }, @{ n = 'Expected'; e = { $_.Output.expected } } | Format-Table | Out-Host

$log = Get-ChildItem $OutputDirectory -Filter *_errors.log | Select-Object -First 1
Write-Host "== 5. The errors log ($($log.FullName)), first block:" -ForegroundColor Cyan
Get-Content $log.FullName -TotalCount 7 | Out-Host
Write-Host "Run files are in $OutputDirectory"
