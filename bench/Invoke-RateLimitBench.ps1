<#
.SYNOPSIS
    The rate-limit benchmark: runs against a local OpenAI-compatible server with a token bucket
    (tests/Servers/RateLimitServer), reporting wall time against the ideal and 429s as a share of all requests
    the server saw (from its log). Called by Invoke-Benchmarks.ps1; runs alone too.
.DESCRIPTION
    The server takes 40 requests/s (a bucket of 40), or 4,800 tokens/s (a bucket of 4,800) with 120 tokens per
    call, answers 429 with Retry-After: 1 when its bucket is empty, and otherwise answers after 100 ms. Each
    sample makes one call; ThrottleLimit 32; ideal = samples / 40 s. Every measurement is a fresh pwsh and a
    fresh server; the cases alternate within each round.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    # The module of the code before rate limits, for case (b); without it (b) is left out.
    [string] $BaselineModulePath,
    [switch] $Quick,
    [int] $Repeat = 3,
    [string] $WorkDirectory = (Join-Path ([IO.Path]::GetTempPath()) "checkpoint-ratebench-$PID")
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot
Import-Module (Join-Path $root 'tests/Servers/RateLimitServer.psm1') -Force
$work = Join-Path $WorkDirectory 'ratelimit'
New-Item -ItemType Directory -Path $work -Force | Out-Null
$dll = Build-RateLimitServer -Destination (Join-Path $root 'output/servers/RateLimitServer')
$pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

$samples = if ($Quick) { 60 } else { 1200 }
$requestsPerSecond = 40
$ideal = $samples / $requestsPerSecond
$csv = Join-Path $work 'samples.csv'
(@('id') + (1..$samples | ForEach-Object { "s$_" })) | Set-Content $csv

function Get-Median([double[]] $values) {
    $sorted = @($values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { return $sorted[[int][math]::Floor($n / 2)] }
    return ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

$body = '{"model":"bench","messages":[{"role":"user","content":"What is 6 times 7?"}]}'
# (a): what a user writes without the module, a retry loop that honours Retry-After.
$parallel = @'
$t = [Diagnostics.Stopwatch]::StartNew()
1..{SAMPLES} | ForEach-Object -Parallel {
    while ($true) {
        try { $null = Invoke-RestMethod -Method Post -Uri $using:uri -Body $using:body -ContentType 'application/json'; break }
        catch {
            $response = $_.Exception.Response
            if ($null -eq $response -or [int]$response.StatusCode -ne 429) { throw }
            $wait = $response.Headers.RetryAfter.Delta
            Start-Sleep -Milliseconds ($wait ? $wait.TotalMilliseconds : 1000)
        }
    }
} -ThrottleLimit 32
@{ s = $t.Elapsed.TotalSeconds; done = {SAMPLES}; seen = $null } | ConvertTo-Json -Compress
'@
# (b) to (e): one call per sample; the usage in the result is what a token limit debits. MaxRetries 20 so
# that every sample finishes even where most requests are 429s.
$checkpoint = @'
Import-Module '{MODULE}'
$block = { $r = Invoke-RestMethod -Method Post -Uri $using:uri -Body $using:body -ContentType 'application/json'; [pscustomobject]@{ id = $_.id; usage = $r.usage } }
$t = [Diagnostics.Stopwatch]::StartNew()
$r = Start-CheckpointRun -Dataset '{CSV}' -Process $block -ThrottleLimit 32 -MaxRetries 20 -OutputDirectory '{OUT}' {EXTRA}
$seen = if ($r.PSObject.Properties['RateLimitedCount']) { $r.RateLimitedCount } else { $null }
@{ s = $t.Elapsed.TotalSeconds; done = $r.CompletedSamples; seen = $seen } | ConvertTo-Json -Compress
'@

$cases = @(
    [pscustomobject]@{ Key = 'a'; Name = '(a) ForEach-Object -Parallel, retry loop'; Limit = 'requests'; Module = $null; Extra = '' }
    if ($BaselineModulePath) { [pscustomobject]@{ Key = 'b'; Name = '(b) Start-CheckpointRun, before rate limits'; Limit = 'requests'; Module = $BaselineModulePath; Extra = '' } }
    [pscustomobject]@{ Key = 'c'; Name = '(c) Start-CheckpointRun, adaptive only'; Limit = 'requests'; Module = $ModulePath; Extra = '' }
    [pscustomobject]@{ Key = 'd'; Name = '(d) Start-CheckpointRun -RateLimit 2400'; Limit = 'requests'; Module = $ModulePath; Extra = '-RateLimit 2400' }
    [pscustomobject]@{ Key = 'e'; Name = '(e) tokens: -TokenRateLimit 288000'; Limit = 'tokens'; Module = $ModulePath; Extra = '-TokenRateLimit 288000' }
)

function Invoke-Case($case, [int] $round) {
    $server = Start-RateLimitServer -Dll $dll -Directory $work -Limit $case.Limit -LatencyMs 100 -Tokens 120 -RetryAfter 1 -LifetimeSeconds ($ideal * 10 + 120)
    try {
        $prelude = "`$ErrorActionPreference = 'Stop'; `$ProgressPreference = 'SilentlyContinue'; `$uri = '$($server.Uri)'; `$body = '$body'`n"
        $text = if ($case.Module) {
            $checkpoint.Replace('{MODULE}', $case.Module).Replace('{CSV}', $csv).Replace('{EXTRA}', $case.Extra).Replace('{OUT}', (Join-Path $work "out-$($case.Key)-$round"))
        }
        else { $parallel.Replace('{SAMPLES}', $samples) }
        $file = Join-Path $work "measure-$($case.Key)-$round.ps1"
        Set-Content -Path $file -Value ($prelude + $text)
        $line = & $pwsh -NoProfile -NonInteractive -File $file | Select-Object -Last 1
        if ($LASTEXITCODE -ne 0) { throw "Case $($case.Name) failed (exit code $LASTEXITCODE)." }
        $result = $line | ConvertFrom-Json
        if ($result.done -ne $samples) { throw "Case $($case.Name) completed $($result.done) of $samples samples." }
    }
    finally {
        Stop-RateLimitServer $server
    }
    $log = Read-RateLimitLog $server
    $limited = @($log | Where-Object Status -EQ 429).Count
    if (@($log | Where-Object Status -EQ 200).Count -lt $samples) { throw "Case $($case.Name): the server answered fewer than $samples calls." }
    return [pscustomobject]@{ Key = $case.Key; Seconds = [double]$result.s; Requests = $log.Count; Limited = $limited; Share = $limited / $log.Count; Seen = $result.seen }
}

$runs = foreach ($round in 1..$Repeat) { foreach ($case in $cases) { Invoke-Case $case $round } }

Write-Host ("`n4. Rate limits: $samples samples of one call each, ThrottleLimit 32, against a local server taking 40 requests/s " +
    "(bucket 40) or 4,800 tokens/s (bucket 4,800, 120 tokens a call), 429 with Retry-After: 1 when empty, 100 ms a call; " +
    "ideal $ideal s (median of $Repeat fresh processes and servers; 429s % of all requests the server saw; 429s seen: RunSummary.RateLimitedCount). " +
    "(a) is ForEach-Object -Parallel with a retry loop that honours Retry-After; every case runs at ThrottleLimit 32; (e) runs against the server limiting tokens")
if (-not $BaselineModulePath) { Write-Host '   (b), the code before rate limits, runs with -Baseline <revision>.' }
$cases | ForEach-Object {
    $mine = @($runs | Where-Object Key -EQ $_.Key)
    $seen = @($mine | Where-Object { $null -ne $_.Seen })
    [pscustomobject]@{
        Variant            = $_.Name
        Seconds            = [math]::Round((Get-Median ($mine | ForEach-Object Seconds)), 2)
        'vs ideal'         = [math]::Round((Get-Median ($mine | ForEach-Object Seconds)) / $ideal, 3)
        '429s %'           = [math]::Round((Get-Median ($mine | ForEach-Object Share)) * 100, 2)
        Requests           = [int](Get-Median ($mine | ForEach-Object Requests))
        '429s seen'        = if ($seen.Count) { [string](Get-Median ($seen | ForEach-Object Seen)) } else { '' }
    }
} | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Write-Host ('   Per round (s, 429 %): ' + (($cases | ForEach-Object {
                $key = $_.Key
                "($key) " + ((@($runs | Where-Object Key -EQ $key) | ForEach-Object { '{0:0.00}/{1:0.0}' -f $_.Seconds, ($_.Share * 100) }) -join ' ')
            }) -join '; '))
Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
