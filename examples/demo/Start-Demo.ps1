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

$info = [Checkpoint.Datasets.DatasetReader]::Scan($dataset, $null)
$identity = [Checkpoint.Identity.RunIdentity]::Create($dataset, 'demo-model', @{ temperature = 0 }, 0)
$runId = $identity.ResolveRunId($OutputDirectory, [DateTime]::UtcNow)
$files = [Checkpoint.Store.RunFiles]::new($OutputDirectory, $runId, $null)
Write-Host "Dataset: $dataset ($($info.RowCount) samples), run $runId"

function Invoke-DemoPass([int] $StopAfter, [bool] $FailSome) {
    $store = [Checkpoint.Store.CheckpointStore]::Open($files, 5)
    try {
        $store.State.TotalSamples = $info.RowCount
        Write-Host "Loaded $($store.Index.CompletedCount) completed samples from checkpoint"
        $done = 0
        foreach ($sample in [Checkpoint.Datasets.DatasetReader]::Read($dataset, $null)) {
            if ($store.Index.IsCompleted($sample.Id)) { continue }
            if ($done -ge $StopAfter) { break }
            $question = ($sample.Fields | Where-Object Key -EQ 'question').Value
            $started = [DateTimeOffset]::UtcNow
            $record = if ($FailSome -and ($sample.Id -match '[37]$')) {
                Write-Host "Error processing sample $($sample.Id): System.TimeoutException"
                [Checkpoint.Store.CheckpointRecord]@{
                    SampleId = $sample.Id; Status = 'Failed'; Attempt = 1; StartedAt = $started; CompletedAt = [DateTimeOffset]::UtcNow
                    Error = [Checkpoint.Store.RecordError]@{ Type = 'System.TimeoutException'; Message = 'The model did not answer in time.'; Transient = $true }
                }
            } else {
                $expression = $question -replace '^What is (.*)\?$', '$1'
                $answer = Invoke-Expression $expression
                [Checkpoint.Store.CheckpointRecord]@{
                    SampleId = $sample.Id; Status = 'Completed'; Attempt = 1; StartedAt = $started; CompletedAt = [DateTimeOffset]::UtcNow
                    OutputJson = (@{ question = $question; answer = $answer } | ConvertTo-Json -Compress)
                }
            }
            [void]$store.Append($record, $null)
            $done++
        }
        $status = if ($store.Index.CompletedCount -eq $info.RowCount) { 'Completed' } else { 'Incomplete' }
        $store.Close($status)
    } finally {
        $store.Dispose()
    }
}

Write-Host "`n== First pass: stops after 12 samples, some fail"
Invoke-DemoPass -StopAfter 12 -FailSome $true
Write-Host "`n== Resume: completed samples are skipped, failed ones retried"
Invoke-DemoPass -StopAfter 1000 -FailSome $false

Write-Host "`n== Stats"
[Checkpoint.CheckpointManager]::new($files.ResultsPath).GetStats() |
    Select-Object CompletedSamples, FailedSamples, ErrorCount, TotalRecords, LastCheckpoint | Format-List
Write-Host "Errors log: $($files.ErrorLogPath)"
Get-Content $files.ErrorLogPath -TotalCount 8
