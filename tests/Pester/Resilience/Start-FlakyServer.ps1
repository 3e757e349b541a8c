<#
.SYNOPSIS
    A scripted HTTP server on 127.0.0.1 for the resilience tests. It stops by itself after -LifetimeSeconds.
.DESCRIPTION
    Listens on a free loopback port, which it writes to -PortFile (atomically, once listening). Every call is
    appended to -LogPath as one JSON line: {"t": UTC time, "path": ..., "query": ..., "call": n-th call of
    that path, "status": answer}. Behaviour by path (counts are per path, so each sample id has its own):
      /ok/{id}                      200
      /{code}/{id}?n=N[&after=S]    the first N calls answer {code} (any 3-digit code; all calls without n),
                                    with Retry-After: S when after is given; then 200
      /slow/{id}?ms=M&n=N           the first N calls answer 200 after M ms (default 1); then at once
      /echo401/{id}                 401 whose JSON body echoes the request's headers
      /api/{id}                     200 in mode ok, 503 in mode down (see /mode)
      /mode/ok, /mode/down          switch the mode of /api; /mode/down?ms=M: down for M ms from now, then ok
      /stop                         stop the server
    The loop is single-threaded but never blocks on one request: slow answers wait in a list.
#>
param(
    [Parameter(Mandatory)][string] $PortFile,
    [Parameter(Mandatory)][string] $LogPath,
    [double] $LifetimeSeconds = 120
)

$ErrorActionPreference = 'Stop'
$utf8 = [System.Text.UTF8Encoding]::new($false)
$deadline = [DateTime]::UtcNow.AddSeconds($LifetimeSeconds)

$listener = $null
for ($try = 0; $try -lt 20 -and $null -eq $listener; $try++) {
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start()
    $port = ([System.Net.IPEndPoint]$probe.LocalEndpoint).Port
    $probe.Stop()
    $candidate = [System.Net.HttpListener]::new()
    $candidate.Prefixes.Add("http://127.0.0.1:$port/")
    try { $candidate.Start(); $listener = $candidate } catch { $candidate.Close() }
}
if ($null -eq $listener) { throw 'No free loopback port could be listened on.' }
[System.IO.File]::WriteAllText("$PortFile.tmp", [string]$port)
[System.IO.File]::Move("$PortFile.tmp", $PortFile, $true)

$counts = @{}
$mode = 'ok'
$downUntil = [DateTime]::MinValue
$pending = [System.Collections.Generic.List[object]]::new()
$stop = $false

function Send-Answer {
    param($Context, [int] $Status, [string] $Body, [hashtable] $Headers = @{})
    try {
        $response = $Context.Response
        $response.StatusCode = $Status
        $response.ContentType = 'application/json'
        foreach ($name in $Headers.Keys) { $response.AddHeader($name, $Headers[$name]) }
        $bytes = $utf8.GetBytes($Body)
        $response.ContentLength64 = $bytes.Length
        $response.OutputStream.Write($bytes, 0, $bytes.Length)
        $response.Close()
    }
    catch {
        # The client went away (a stopped attempt): nothing to answer.
        try { $Context.Response.Abort() } catch { }
    }
}

function Write-CallLog {
    param([string] $Path, [string] $Query, [int] $Call, [int] $Status, [DateTime] $Time)
    $line = [ordered]@{ t = $Time.ToString('o'); path = $Path; query = $Query; call = $Call; status = $Status } | ConvertTo-Json -Compress
    [System.IO.File]::AppendAllText($LogPath, $line + "`n", $utf8)
}

$next = $listener.GetContextAsync()
try {
    while (-not $stop -and [DateTime]::UtcNow -lt $deadline) {
        if ($next.Wait(10)) {
            $context = $next.Result
            $next = $listener.GetContextAsync()
            $now = [DateTime]::UtcNow
            $request = $context.Request
            $path = $request.Url.AbsolutePath
            $query = $request.QueryString
            $counts[$path] = 1 + [int]$counts[$path]
            $call = $counts[$path]
            $parts = $path.Trim('/').Split('/')
            $id = if ($parts.Count -gt 1) { $parts[1] } else { '' }
            $ok = [ordered]@{ id = $id; path = $path; call = $call } | ConvertTo-Json -Compress
            $status = 200
            $body = $ok
            $headers = @{}
            $delayMs = 0
            switch -Regex ($parts[0]) {
                '^\d{3}$' {
                    $limit = if ($query['n']) { [int]$query['n'] } else { [int]::MaxValue }
                    if ($call -le $limit) {
                        $status = [int]$parts[0]
                        $body = [ordered]@{ error = "scripted $status"; id = $id; call = $call } | ConvertTo-Json -Compress
                        if ($query['after']) { $headers['Retry-After'] = $query['after'] }
                    }
                }
                '^slow$' {
                    $limit = if ($query['n']) { [int]$query['n'] } else { 1 }
                    if ($call -le $limit) { $delayMs = [int]$query['ms'] }
                }
                '^echo401$' {
                    $status = 401
                    $echo = [ordered]@{}
                    foreach ($name in $request.Headers.AllKeys) { $echo[$name] = $request.Headers[$name] }
                    $body = [ordered]@{ error = 'unauthorized'; received_headers = $echo } | ConvertTo-Json -Compress
                }
                '^api$' {
                    if ($mode -eq 'down' -or $now -lt $downUntil) {
                        $status = 503
                        $body = '{"error":"down"}'
                    }
                }
                '^mode$' {
                    if ($parts[1] -eq 'down' -and $query['ms']) { $mode = 'ok'; $downUntil = $now.AddMilliseconds([int]$query['ms']) }
                    else { $mode = $parts[1]; $downUntil = [DateTime]::MinValue }
                }
                '^stop$' { $stop = $true }
            }
            Write-CallLog -Path $path -Query $request.Url.Query -Call $call -Status $status -Time $now
            if ($delayMs -gt 0) { $pending.Add([pscustomobject]@{ Due = $now.AddMilliseconds($delayMs); Context = $context; Body = $body }) }
            else { Send-Answer -Context $context -Status $status -Body $body -Headers $headers }
        }
        for ($i = $pending.Count - 1; $i -ge 0; $i--) {
            if ([DateTime]::UtcNow -ge $pending[$i].Due) {
                Send-Answer -Context $pending[$i].Context -Status 200 -Body $pending[$i].Body
                $pending.RemoveAt($i)
            }
        }
    }
}
finally {
    $listener.Stop()
    $listener.Close()
}
