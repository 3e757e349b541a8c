<#
.SYNOPSIS
    Runs the benchmarks and prints their tables. Never fails on timing; fails only when a benchmark breaks.
.PARAMETER Quick
    Reduced sizes: a smoke test that every benchmark still runs (what the test suite runs).
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [string] $Configuration = 'Release',
    [switch] $Quick,
    [int] $Repeat = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot
$work = Join-Path ([IO.Path]::GetTempPath()) "checkpoint-bench-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null
if ($Quick) { $Repeat = 1 }

function Get-Median([double[]] $values) {
    $sorted = $values | Sort-Object
    $n = $sorted.Count
    if ($n % 2) { return $sorted[[int][math]::Floor($n / 2)] }
    return ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

try {
    # ---- The store alone (C#, one process per measurement) -------------------------------------------
    $benchOut = Join-Path $work 'storebench'
    & dotnet build (Join-Path $PSScriptRoot 'StoreBench/StoreBench.csproj') -c $Configuration -o $benchOut --nologo -v quiet | Out-Host
    if ($LASTEXITCODE -ne 0) { throw 'The store benchmark did not build.' }
    $storeBench = Join-Path $benchOut 'StoreBench.dll'
    function Invoke-StoreBench([string[]] $arguments) {
        $line = & dotnet exec $storeBench @arguments
        if ($LASTEXITCODE -ne 0) { throw "StoreBench $arguments failed." }
        return $line | ConvertFrom-Json
    }

    $appendCases = if ($Quick) { @(@{ Every = 1; Count = 200 }, @{ Every = 100; Count = 5000 }, @{ Every = 10000; Count = 20000 }) }
    else { @(@{ Every = 1; Count = 2000 }, @{ Every = 100; Count = 50000 }, @{ Every = 10000; Count = 500000 }) }
    $appendRows = foreach ($case in $appendCases) {
        $runs = 1..$Repeat | ForEach-Object { Invoke-StoreBench @('append', (Join-Path $work 'append'), $case.Count, $case.Every) }
        $rates = $runs | ForEach-Object { $_.records / $_.seconds }
        [pscustomobject]@{
            CheckpointEvery = $case.Every
            Records         = $case.Count
            BytesPerRecord  = $runs[0].bytesPerRecord
            'Records/s (median)' = [math]::Round((Get-Median $rates))
            'Records/s (min)' = [math]::Round(($rates | Measure-Object -Minimum).Minimum)
        }
    }
    Write-Host "`nStore: append throughput (one write per record, fsync every CheckpointEvery records; $Repeat runs)"
    $appendRows | Format-Table -AutoSize | Out-Host

    $loadRecords = if ($Quick) { 20000 } else { 1000000 }
    $loadDir = Join-Path $work 'load'
    $null = Invoke-StoreBench @('append', $loadDir, $loadRecords, 10000)
    $loadFile = Get-ChildItem $loadDir -Filter *.jsonl | Select-Object -First 1
    $loads = 1..$Repeat | ForEach-Object { Invoke-StoreBench @('load', $loadFile.FullName) }
    Write-Host "Store: load $loadRecords records ($([math]::Round($loadFile.Length / 1MB)) MB) and build the set of completed ids; fresh process per run, $Repeat runs"
    [pscustomobject]@{
        Records            = $loadRecords
        'Seconds (median)' = [math]::Round((Get-Median ($loads | ForEach-Object seconds)), 3)
        'Peak MB (median)' = [math]::Round((Get-Median ($loads | ForEach-Object peakMB)))
        Completed          = $loads[0].completed
    } | Format-Table -AutoSize | Out-Host
    if ($loads[0].completed -ne $loadRecords) { throw "Load found $($loads[0].completed) completed ids, expected $loadRecords." }
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
