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
    [int] $Repeat = 3,
    # Another build of the module (an earlier revision's) that the no-op and latency cases run too, alternating,
    # and the rate-limit benchmark as its case (b).
    [string] $BaselineModulePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot
$work = Join-Path ([IO.Path]::GetTempPath()) "checkpoint-bench-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null
if ($Quick) { $Repeat = 1 }

function Get-Median([double[]] $values) {
    $sorted = @($values | Sort-Object)
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

    # ---- The response cache: its index's load beside the store's, and a hit's cost ----------------------
    $cacheDir = Join-Path $work 'cache'
    $cacheFill = Invoke-StoreBench @('cache-fill', $cacheDir, $loadRecords)
    $cacheLoads = 1..$Repeat | ForEach-Object { Invoke-StoreBench @('cache-load', $cacheDir) }
    if ($cacheLoads[0].entries -ne $loadRecords) { throw "The cache load found $($cacheLoads[0].entries) entries, expected $loadRecords." }
    Write-Host "Cache: load the index of $loadRecords entries ($($cacheFill.bytesPerEntry) bytes each), beside the store's load of as many records; fresh process per run, $Repeat runs"
    @(
        [pscustomobject]@{ What = 'Store load'; Count = $loadRecords; 'Seconds (median)' = [math]::Round((Get-Median ($loads | ForEach-Object seconds)), 3); 'Peak MB (median)' = [math]::Round((Get-Median ($loads | ForEach-Object peakMB))) }
        [pscustomobject]@{ What = 'Cache index load'; Count = $loadRecords; 'Seconds (median)' = [math]::Round((Get-Median ($cacheLoads | ForEach-Object seconds)), 3); 'Peak MB (median)' = [math]::Round((Get-Median ($cacheLoads | ForEach-Object peakMB))) }
    ) | Format-Table -AutoSize | Out-Host

    $lookupEntries = if ($Quick) { 10000 } else { 100000 }
    $lookupDir = Join-Path $work 'cache-lookup'
    $null = Invoke-StoreBench @('cache-fill', $lookupDir, $lookupEntries)
    $lookups = 1..$Repeat | ForEach-Object { Invoke-StoreBench @('cache-lookup', $lookupDir, $lookupEntries, 100000) }
    if ($lookups[0].found -ne $lookups[0].hits) { throw "Cache lookups found $($lookups[0].found) of $($lookups[0].hits) stored keys." }
    Write-Host "Cache: one hit (index, read of its line, checksum, decode) at $lookupEntries entries; 100000 hits of random stored keys, $Repeat runs"
    [pscustomobject]@{
        Entries                 = $lookupEntries
        'µs per hit (median)'   = [math]::Round((Get-Median ($lookups | ForEach-Object microsecondsPerHit)), 2)
        'µs per hit (max)'      = [math]::Round(($lookups | ForEach-Object microsecondsPerHit | Measure-Object -Maximum).Maximum, 2)
    } | Format-Table -AutoSize | Out-Host

    # ---- The cmdlets against what PowerShell users would do instead (one fresh pwsh per measurement) -------
    $pwsh = Join-Path $PSHOME 'pwsh'
    function Invoke-Measured([string] $script) {
        $file = Join-Path $work "measure-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content -Path $file -Value $script
        $line = & $pwsh -NoProfile -NonInteractive -File $file | Select-Object -Last 1
        if ($LASTEXITCODE -ne 0) { throw "A measurement failed: $script" }
        return $line | ConvertFrom-Json
    }

    # 1. No-op overhead.
    $rows = if ($Quick) { 5000 } else { 100000 }
    $handRows = if ($Quick) { 500 } else { 5000 }
    $csv = Join-Path $work 'noop.csv'
    $builder = [System.Text.StringBuilder]::new("id,question,answer`n")
    for ($i = 1; $i -le $rows; $i++) { [void]$builder.Append("q$($i),What is $($i) plus $($i)?,""$($i) + $($i) = $($i * 2)`n#### $($i * 2)""`n") }
    [IO.File]::WriteAllText($csv, $builder.ToString())
    $handCsv = Join-Path $work 'noop-hand.csv'
    Get-Content $csv -TotalCount ($handRows * 3 + 1) | Set-Content $handCsv
    function Get-Prelude([string] $module) {
        "`$ErrorActionPreference = 'Stop'; Import-Module '$module'; `$block = { [pscustomobject]@{ id = `$_.id; out = `$_.answer } }; Set-Location '$work'`n" +
            "Import-Csv '$handCsv' | Select-Object -First 200 | ForEach-Object `$block | Out-Null; `$null = Start-CheckpointRun -Dataset '$handCsv' -Process `$block -OutputDirectory (Join-Path '$work' ('warm' + `$PID)) -Limit 200`n"
    }
    $prelude = Get-Prelude $ModulePath
    $noopRun = "`$t = [Diagnostics.Stopwatch]::StartNew(); `$r = Start-CheckpointRun -Dataset '$csv' -Process `$block -OutputDirectory (Join-Path '$work' ('cp' + `$PID)); @{ s = `$t.Elapsed.TotalSeconds; done = `$r.CompletedSamples } | ConvertTo-Json -Compress"
    $noop = foreach ($i in 1..$Repeat) {
        $a = Invoke-Measured ($prelude + "`$t = [Diagnostics.Stopwatch]::StartNew(); Import-Csv '$csv' | ForEach-Object `$block | Out-Null; @{ s = `$t.Elapsed.TotalSeconds } | ConvertTo-Json -Compress")
        $b = Invoke-Measured ($prelude + "`$out = Join-Path '$work' ('hand' + `$PID + '.jsonl'); `$t = [Diagnostics.Stopwatch]::StartNew(); Import-Csv '$handCsv' | ForEach-Object { `$r = & `$block `$_; `$r | ConvertTo-Json -Compress | Add-Content `$out }; @{ s = `$t.Elapsed.TotalSeconds } | ConvertTo-Json -Compress")
        $c = Invoke-Measured ($prelude + $noopRun)
        if ($c.done -ne $rows) { throw "Start-CheckpointRun completed $($c.done) of $rows samples." }
        $d = if ($BaselineModulePath) { Invoke-Measured ((Get-Prelude $BaselineModulePath) + $noopRun) } else { $null }
        [pscustomobject]@{ A = $a.s / $rows * 1e6; B = $b.s / $handRows * 1e6; C = $c.s / $rows * 1e6; D = $d ? $d.s / $rows * 1e6 : $null }
    }
    $a = Get-Median ($noop | ForEach-Object A); $b = Get-Median ($noop | ForEach-Object B); $c = Get-Median ($noop | ForEach-Object C)
    Write-Host "`n1. No-op overhead: $rows-row CSV, block { [pscustomobject]@{ id = `$_.id; out = `$_.answer } }, ThrottleLimit 1, CheckpointEvery 10 (µs per row, median of $Repeat fresh processes; (b) timed on $handRows rows)"
    @(
        [pscustomobject]@{ Variant = '(a) Import-Csv | ForEach-Object, no checkpointing'; 'µs/row' = [math]::Round($a, 1); 'Start-CheckpointRun vs this' = [math]::Round($c / $a, 2) }
        [pscustomobject]@{ Variant = '(b) hand loop: ConvertTo-Json | Add-Content'; 'µs/row' = [math]::Round($b, 1); 'Start-CheckpointRun vs this' = [math]::Round($c / $b, 3) }
        [pscustomobject]@{ Variant = 'Start-CheckpointRun'; 'µs/row' = [math]::Round($c, 1); 'Start-CheckpointRun vs this' = 1 }
    ) | Format-Table -AutoSize | Out-Host
    if ($BaselineModulePath) {
        $dm = Get-Median ($noop | ForEach-Object D)
        Write-Host ("   Baseline build: {0:0.0} µs/row; this build vs the baseline: {1:0.000}x (per round: {2})`n" -f $dm, ($c / $dm), (($noop | ForEach-Object { '{0:0.000}' -f ($_.C / $_.D) }) -join ', '))
    }

    # 2. Latency-bound.
    $n = if ($Quick) { 200 } else { 2000 }
    $ids = Join-Path $work 'latency.csv'
    (@('id') + (1..$n | ForEach-Object { "s$_" })) | Set-Content $ids
    $ideal = $n * 0.05 / 32
    # Start-Sleep itself takes longer than it is asked to; the floor is what the samples' own sleeps allow.
    $sleep = Invoke-Measured ("`$null = Start-Sleep -Milliseconds 50; `$t = [Diagnostics.Stopwatch]::StartNew(); foreach (`$i in 1..40) { Start-Sleep -Milliseconds 50 }; @{ ms = `$t.Elapsed.TotalMilliseconds / 40 } | ConvertTo-Json -Compress")
    $floor = $n * $sleep.ms / 1000 / 32
    $latency = foreach ($i in 1..$Repeat) {
        $p = Invoke-Measured ("Set-Location '$work'; `$t = [Diagnostics.Stopwatch]::StartNew(); Import-Csv '$ids' | ForEach-Object -Parallel { Start-Sleep -Milliseconds 50; `$_.id } -ThrottleLimit 32 | Out-Null; @{ s = `$t.Elapsed.TotalSeconds } | ConvertTo-Json -Compress")
        $latencyRun = "`$t = [Diagnostics.Stopwatch]::StartNew(); `$r = Start-CheckpointRun -Dataset '$ids' -Process { Start-Sleep -Milliseconds 50; `$_.id } -ThrottleLimit 32 -OutputDirectory (Join-Path '$work' ('lat' + `$PID)); @{ s = `$t.Elapsed.TotalSeconds; done = `$r.CompletedSamples } | ConvertTo-Json -Compress"
        $q = Invoke-Measured ("Import-Module '$ModulePath'; " + $latencyRun)
        if ($q.done -ne $n) { throw "Start-CheckpointRun completed $($q.done) of $n samples." }
        $r = if ($BaselineModulePath) { Invoke-Measured ("Import-Module '$BaselineModulePath'; " + $latencyRun) } else { $null }
        [pscustomobject]@{ P = $p.s; Q = $q.s; R = $r ? $r.s : $null }
    }
    $pm = Get-Median ($latency | ForEach-Object P); $qm = Get-Median ($latency | ForEach-Object Q)
    Write-Host ("2. Latency-bound: $n samples, { Start-Sleep -Milliseconds 50 }, ThrottleLimit 32; ideal $([math]::Round($ideal, 2)) s (median of $Repeat). " +
        "One Start-Sleep -Milliseconds 50 took {0:0.0} ms here, so the samples' own sleeps allow no less than {1:0.00} s ({2:0.00}x ideal)" -f $sleep.ms, $floor, ($floor / $ideal))
    @(
        [pscustomobject]@{ Variant = 'ForEach-Object -Parallel -ThrottleLimit 32'; Seconds = [math]::Round($pm, 2); 'vs ideal' = [math]::Round($pm / $ideal, 2) }
        [pscustomobject]@{ Variant = 'Start-CheckpointRun -ThrottleLimit 32'; Seconds = [math]::Round($qm, 2); 'vs ideal' = [math]::Round($qm / $ideal, 2) }
    ) | Format-Table -AutoSize | Out-Host
    Write-Host ("   Start-CheckpointRun is {0:0.00}x faster than ForEach-Object -Parallel`n" -f ($pm / $qm))
    if ($BaselineModulePath) {
        $rm = Get-Median ($latency | ForEach-Object R)
        Write-Host ("   Baseline build: {0:0.00} s; this build vs the baseline: {1:0.000}x (per round: {2})`n" -f $rm, ($qm / $rm), (($latency | ForEach-Object { '{0:0.000}' -f ($_.Q / $_.R) }) -join ', '))
    }

    # 3. Resume at scale: a run with N completed records and 5 pending, of a CSV dataset and of the same rows
    # as JSONL (each its own run, in its own folder).
    $scaleRows = if ($Quick) { 20005 } else { 1000005 }
    $skip = [int][math]::Floor($scaleRows / 5)
    foreach ($format in 'csv', 'jsonl') {
        $scaleData = Join-Path $work "scale.$format"
        $writer = [IO.StreamWriter]::new($scaleData)
        if ($format -eq 'csv') {
            $writer.WriteLine('id,question')
            for ($i = 1; $i -le $scaleRows; $i++) { $writer.WriteLine("q$i,question $i") }
        }
        else {
            for ($i = 1; $i -le $scaleRows; $i++) { $writer.WriteLine("{`"id`":`"q$i`",`"question`":`"question $i`"}") }
        }

        $writer.Dispose()
        $scaleOut = Join-Path $work "scale-out-$format"
        $null = Invoke-Measured ("Import-Module '$ModulePath'; `$r = Start-CheckpointRun -Dataset '$scaleData' -Model scale -Process { `$_.id } -Limit 1 -OutputDirectory '$scaleOut'; @{ id = `$r.RunId } | ConvertTo-Json -Compress")
        $runId = (Get-ChildItem $scaleOut -Filter *.jsonl | Select-Object -First 1).BaseName
        $null = Invoke-StoreBench @('fill', $scaleOut, $runId, $scaleRows, $skip)
        $resume = foreach ($i in 1..$Repeat) {
            # Each resume finishes the pending samples; cutting its records off puts them back to pending for the
            # next repetition (a truncation, not a rewrite: 200 MB of dirty pages would be flushed during the
            # next measurement).
            $jsonl = Join-Path $scaleOut "$runId.jsonl"
            $before = (Get-Item $jsonl).Length
            $r = Invoke-Measured ("Import-Module '$ModulePath'; `$t = [Diagnostics.Stopwatch]::StartNew(); `$global:first = `$null; `$null = Resume-CheckpointRun -RunId '$runId' -OutputDirectory '$scaleOut' -Process { if (`$null -eq `$global:first) { `$global:first = `$t.Elapsed.TotalSeconds }; `$_.id }; `$total = `$t.Elapsed.TotalSeconds; `$p = Get-Process -Id `$PID; @{ first = `$global:first; total = `$total; peakMB = `$p.PeakWorkingSet64 / 1MB } | ConvertTo-Json -Compress")
            $s = Invoke-Measured ("Import-Module '$ModulePath'; `$t = [Diagnostics.Stopwatch]::StartNew(); `$st = Get-CheckpointStats -RunId '$runId' -OutputDirectory '$scaleOut'; @{ s = `$t.Elapsed.TotalSeconds; done = `$st.CompletedSamples; peakMB = (Get-Process -Id `$PID).PeakWorkingSet64 / 1MB } | ConvertTo-Json -Compress")
            $file = [IO.File]::Open($jsonl, 'Open', 'ReadWrite')
            try { $file.SetLength($before) } finally { $file.Dispose() }
            [pscustomobject]@{ First = $r.first; Total = $r.total; Peak = $r.peakMB; Stats = $s.s; StatsPeak = $s.peakMB; Done = $s.done }
        }
        Write-Host "3. Resume at scale, $($format.ToUpperInvariant()) dataset: $($scaleRows - 5) completed records, 5 pending (median of $Repeat fresh processes)"
        @(
            [pscustomobject]@{ Measure = 'Resume-CheckpointRun until the first pending sample starts'; Value = '{0:0.00} s' -f (Get-Median ($resume | ForEach-Object First)) }
            [pscustomobject]@{ Measure = 'Resume-CheckpointRun, the whole command'; Value = '{0:0.00} s' -f (Get-Median ($resume | ForEach-Object Total)) }
            [pscustomobject]@{ Measure = 'peak memory of that pwsh process'; Value = '{0:0} MB' -f (Get-Median ($resume | ForEach-Object Peak)) }
            [pscustomobject]@{ Measure = 'Get-CheckpointStats'; Value = '{0:0.00} s' -f (Get-Median ($resume | ForEach-Object Stats)) }
            [pscustomobject]@{ Measure = 'peak memory of that pwsh process'; Value = '{0:0} MB' -f (Get-Median ($resume | ForEach-Object StatsPeak)) }
        ) | Format-Table -AutoSize | Out-Host
        if ($resume[0].Done -ne $scaleRows) { throw "Stats counted $($resume[0].Done) completed samples after the $format resume, expected $scaleRows." }
        Remove-Item $scaleOut, $scaleData -Recurse -Force
    }

    # 4. Rate limits, against a local rate-limited server (its own script).
    & (Join-Path $PSScriptRoot 'Invoke-RateLimitBench.ps1') -ModulePath $ModulePath -BaselineModulePath $BaselineModulePath -Quick:$Quick -Repeat $Repeat -WorkDirectory $work
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
