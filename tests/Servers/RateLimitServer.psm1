<#
.SYNOPSIS
    Builds, starts, stops and reads the rate-limited OpenAI-compatible server (RateLimitServer/), for the
    rate-limit benchmark (bench/Invoke-Benchmarks.ps1) and tests (tests/Pester/RateLimit.Server.Tests.ps1).
#>
Set-StrictMode -Version 3.0

$script:Project = Join-Path $PSScriptRoot 'RateLimitServer'

function Build-RateLimitServer {
    # Builds the server into $Destination once; a build newer than every source file is reused, since even an
    # up-to-date 'dotnet build' costs seconds that the smoke run should not pay.
    param([Parameter(Mandatory)][string] $Destination)
    $dll = Join-Path $Destination 'RateLimitServer.dll'
    $sources = Get-ChildItem -LiteralPath $script:Project -File | Where-Object Extension -In '.cs', '.csproj'
    $newest = ($sources | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
    if ((Test-Path -LiteralPath $dll) -and (Get-Item -LiteralPath $dll).LastWriteTimeUtc -gt $newest) { return $dll }
    $output = & dotnet build (Join-Path $script:Project 'RateLimitServer.csproj') -c Release -o $Destination --nologo -v quiet 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The rate-limited server did not build:`n$($output -join "`n")" }
    return $dll
}

function Start-RateLimitServer {
    <#
    Starts the server on a free port of 127.0.0.1 with its log in $Directory and returns
    { Process, Port, Endpoint (the /v1 base URL), Uri (chat completions), LogPath }.
    -Limit requests: a bucket of -Rate requests per second (default 40) holding -Burst (default -Rate);
    -Limit tokens: a bucket of -Rate tokens per second (default 4800), each call taking -Tokens.
    #>
    param(
        [Parameter(Mandatory)][string] $Dll,
        [Parameter(Mandatory)][string] $Directory,
        [ValidateSet('requests', 'tokens')][string] $Limit = 'requests',
        [double] $Rate,
        [double] $Burst,
        [int] $LatencyMs = 100,
        [int] $Tokens = 120,
        [int] $RetryAfter = 1,
        [double] $LifetimeSeconds = 300,
        [string] $Content
    )
    New-Item -ItemType Directory -Path $Directory -Force | Out-Null
    $name = 'server-' + [guid]::NewGuid().ToString('n').Substring(0, 8)
    $portFile = Join-Path $Directory "$name.port"
    $logPath = Join-Path $Directory "$name.log"
    $start = [System.Diagnostics.ProcessStartInfo]::new((Get-Command dotnet -CommandType Application | Select-Object -First 1).Source)
    $arguments = @('exec', $Dll, '--port-file', $portFile, '--log', $logPath, '--limit', $Limit, '--latency-ms', $LatencyMs,
        '--tokens', $Tokens, '--retry-after', $RetryAfter, '--lifetime', $LifetimeSeconds)
    if ($PSBoundParameters.ContainsKey('Rate')) { $arguments += @('--rate', $Rate) }
    if ($PSBoundParameters.ContainsKey('Burst')) { $arguments += @('--burst', $Burst) }
    if ($Content) { $arguments += @('--content', $Content) }
    foreach ($argument in $arguments) { $start.ArgumentList.Add([string]::Format([cultureinfo]::InvariantCulture, '{0}', $argument)) }
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while (-not (Test-Path -LiteralPath $portFile) -and -not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    if (-not (Test-Path -LiteralPath $portFile)) {
        $why = if ($process.HasExited) { $process.StandardError.ReadToEnd() } else { 'no port file within 30 s' }
        if (-not $process.HasExited) { $process.Kill($true) }
        throw "The rate-limited server did not start: $why"
    }
    $port = [int](Get-Content -LiteralPath $portFile -Raw).Trim()
    return [pscustomobject]@{
        Process  = $process
        Port     = $port
        Endpoint = "http://127.0.0.1:$port/v1"
        Uri      = "http://127.0.0.1:$port/v1/chat/completions"
        LogPath  = $logPath
    }
}

function Stop-RateLimitServer {
    # Asks the server to stop, then kills it if it has not within 10 s; always waits for it to exit.
    param([Parameter(Mandatory)] $Server)
    if (-not $Server.Process.HasExited) {
        try { $null = Invoke-RestMethod -Uri "http://127.0.0.1:$($Server.Port)/stop" -TimeoutSec 5 } catch { }
        if (-not $Server.Process.WaitForExit(10000)) { $Server.Process.Kill($true) }
    }
    $Server.Process.WaitForExit()
}

function Read-RateLimitLog {
    # The server's requests in arrival order: { N, Ms (ms since the server started), Status }.
    param([Parameter(Mandatory)] $Server)
    if (-not (Test-Path -LiteralPath $Server.LogPath)) { return @() }
    $lines = [System.IO.File]::ReadAllLines($Server.LogPath)
    $requests = foreach ($line in $lines) {
        if ($line) {
            $entry = $line | ConvertFrom-Json
            [pscustomobject]@{ N = [long]$entry.n; Ms = [double]$entry.ms; Status = [int]$entry.status }
        }
    }
    return @($requests | Sort-Object Ms)
}

function Get-MaxInWindow {
    # The most requests whose arrivals fall in one window [t, t + $WindowMs), over every start t.
    param([Parameter(Mandatory)][AllowEmptyCollection()][double[]] $Ms, [Parameter(Mandatory)][double] $WindowMs)
    $sorted = [double[]]@($Ms | Sort-Object)
    $most = 0
    $first = 0
    for ($last = 0; $last -lt $sorted.Count; $last++) {
        while ($sorted[$last] - $sorted[$first] -ge $WindowMs) { $first++ }
        $most = [math]::Max($most, $last - $first + 1)
    }
    return $most
}

Export-ModuleMember -Function Build-RateLimitServer, Start-RateLimitServer, Stop-RateLimitServer, Read-RateLimitLog, Get-MaxInWindow
