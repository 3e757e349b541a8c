<#
.SYNOPSIS
    A small, deterministic OpenAI-compatible chat completions server for the study tests (Study.Tests.ps1).

.DESCRIPTION
    Listens on 127.0.0.1 on a free port (written to -PortFile once it listens) and answers
    POST /v1/chat/completions as the script in -ScriptPath says, one entry per question:

        { "index": 0, "question": "...", "gold": 18, "initial": "right"|"wrong", "revised": "right"|"wrong",
          "throttle": "none"|"initial"|"review", "status": 429|500, "format": "plain"|"dollar"|"nohash" }

    The question is found by looking for an entry's question text in the first user message. A request whose
    conversation holds an assistant message is the review call, else the initial call. The first initial (or
    review) call of a question whose throttle names it is answered with its status (429 with Retry-After: 1 by
    default; 500, a server error, without Retry-After) and no usage.
    Every answer carries usage (prompt_tokens: a quarter of the characters of the messages, rounded up;
    completion_tokens: a quarter of the characters of the answer, rounded up). A wrong 'Authorization:
    Bearer <key>' is answered 401; a question not in the script 400.

    Every request is appended to -LogPath as one JSON line (index, kind, status, tokens, model) before the
    response is sent, so a client that has its response finds the call in the log. The server stops by
    itself after -MaxSeconds.
#>
param(
    [Parameter(Mandatory)][string] $ScriptPath,
    [Parameter(Mandatory)][string] $PortFile,
    [Parameter(Mandatory)][string] $LogPath,
    [string] $ApiKey = 'sk-fake-study-key',
    [int] $MaxSeconds = 180
)

$ErrorActionPreference = 'Stop'
$utf8 = [System.Text.UTF8Encoding]::new($false)
$entries = @(Get-Content -LiteralPath $ScriptPath -Raw | ConvertFrom-Json)
$calls = @{}
$requestNumber = 0

# A free port: ask the OS for one, then listen on it (again, if another process took it in between).
$listener = $null
for ($try = 1; $try -le 20 -and -not $listener; $try++) {
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start()
    $port = ([System.Net.IPEndPoint]$probe.LocalEndpoint).Port
    $probe.Stop()
    $candidate = [System.Net.HttpListener]::new()
    $candidate.Prefixes.Add("http://127.0.0.1:$port/")
    try {
        $candidate.Start()
        $listener = $candidate
    }
    catch {
        $candidate.Close()
    }
}
if (-not $listener) { throw 'No free port to listen on.' }
[System.IO.File]::WriteAllText("$PortFile.tmp", [string]$port, $utf8)
Move-Item -LiteralPath "$PortFile.tmp" -Destination $PortFile -Force
Write-Host "Fake OpenAI listening on http://127.0.0.1:$port/v1 for at most $MaxSeconds s"

function Format-Number([decimal] $Value, [string] $Format) {
    $text = $Value.ToString('#,0.##', [System.Globalization.CultureInfo]::InvariantCulture)
    if ($Format -eq 'dollar') { return '$' + $text }
    return $text.Replace(',', '')
}

function New-Answer($Entry, [string] $Kind) {
    $right = if ($Kind -eq 'initial') { $Entry.initial -eq 'right' } else { $Entry.revised -eq 'right' }
    $gold = [decimal]$Entry.gold
    $value = if ($right) { $gold } elseif ($Kind -eq 'initial') { $gold + 7 } else { $gold + 3 }
    $number = Format-Number $value $Entry.format
    $opening = if ($Kind -eq 'initial') { "Let me solve problem $($Entry.index) step by step." } else { 'Let me check my solution step by step.' }
    $reasoning = "$opening`nFirst, 12 + 30 = 42.`nThen I combine the quantities in the problem."
    if ($Entry.format -eq 'nohash') { return "$reasoning`nSo the final answer is $number." }
    return "$reasoning`n#### $number"
}

function Send-Json($Context, [int] $Status, $Body, [hashtable] $Headers = @{}) {
    $bytes = $utf8.GetBytes(($Body | ConvertTo-Json -Depth 8 -Compress))
    $response = $Context.Response
    $response.StatusCode = $Status
    $response.ContentType = 'application/json'
    foreach ($name in $Headers.Keys) { $response.AddHeader($name, $Headers[$name]) }
    $response.ContentLength64 = $bytes.Length
    $response.OutputStream.Write($bytes, 0, $bytes.Length)
    $response.Close()
}

function Write-Log([System.Collections.IDictionary] $Line) {
    [System.IO.File]::AppendAllText($LogPath, (($Line | ConvertTo-Json -Compress) + "`n"), $utf8)
}

function Invoke-Request($Context) {
    $request = $Context.Request
    $reader = [System.IO.StreamReader]::new($request.InputStream, $utf8)
    $text = $reader.ReadToEnd()
    $reader.Dispose()
    $script:requestNumber++
    $log = [ordered]@{ n = $script:requestNumber; index = -1; kind = ''; status = 0; prompt_tokens = 0; completion_tokens = 0; model = '' }
    if ($request.HttpMethod -ne 'POST' -or $request.Url.AbsolutePath -notmatch '/chat/completions$') {
        $log.status = 404
        Write-Log $log
        Send-Json $Context 404 @{ error = @{ message = "Unknown path $($request.Url.AbsolutePath)"; type = 'invalid_request_error' } }
        return
    }

    $body = $text | ConvertFrom-Json
    $messages = @($body.messages)
    $log.model = [string]$body.model
    $log.kind = if (@($messages | Where-Object role -EQ 'assistant').Count -gt 0) { 'review' } else { 'initial' }
    $firstUser = [string](@($messages | Where-Object role -EQ 'user')[0].content)
    $entry = $entries | Where-Object { $firstUser.Contains([string]$_.question) } | Select-Object -First 1
    if ($entry) { $log.index = [int]$entry.index }

    if ($request.Headers['Authorization'] -ne "Bearer $ApiKey") {
        $log.status = 401
        Write-Log $log
        Send-Json $Context 401 @{ error = @{ message = 'Incorrect API key provided.'; type = 'invalid_request_error'; code = 'invalid_api_key' } }
        return
    }

    if (-not $entry) {
        $log.status = 400
        Write-Log $log
        Send-Json $Context 400 @{ error = @{ message = 'This server has no script for that question.'; type = 'invalid_request_error' } }
        return
    }

    $key = "$($entry.index)|$($log.kind)"
    $calls[$key] = 1 + [int]$calls[$key]
    if ($entry.throttle -eq $log.kind -and $calls[$key] -eq 1) {
        $status = if ($entry.PSObject.Properties['status']) { [int]$entry.status } else { 429 }
        $log.status = $status
        Write-Log $log
        if ($status -eq 429) {
            Send-Json $Context 429 @{ error = @{ message = 'Rate limit reached. Please try again in 1s.'; type = 'requests'; code = 'rate_limit_exceeded' } } @{ 'Retry-After' = '1' }
        }
        else {
            Send-Json $Context $status @{ error = @{ message = 'The server had an error while processing your request.'; type = 'server_error' } }
        }
        return
    }

    $content = New-Answer $entry $log.kind
    $promptChars = 0
    foreach ($message in $messages) { $promptChars += ([string]$message.content).Length }
    $log.status = 200
    $log.prompt_tokens = [int][math]::Ceiling($promptChars / 4)
    $log.completion_tokens = [int][math]::Ceiling($content.Length / 4)
    Write-Log $log
    Send-Json $Context 200 ([ordered]@{
            id      = "chatcmpl-fake-$($script:requestNumber)"
            object  = 'chat.completion'
            created = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
            model   = $log.model
            choices = @([ordered]@{ index = 0; message = [ordered]@{ role = 'assistant'; content = $content }; finish_reason = 'stop' })
            usage   = [ordered]@{ prompt_tokens = $log.prompt_tokens; completion_tokens = $log.completion_tokens; total_tokens = $log.prompt_tokens + $log.completion_tokens }
        })
}

$deadline = [DateTime]::UtcNow.AddSeconds($MaxSeconds)
try {
    while ([DateTime]::UtcNow -lt $deadline) {
        $pending = $listener.GetContextAsync()
        while (-not $pending.Wait(200)) {
            if ([DateTime]::UtcNow -ge $deadline) { return }
        }
        $context = $pending.Result
        try {
            Invoke-Request $context
        }
        catch {
            Write-Host "Request failed: $_"
            try { Send-Json $context 500 @{ error = @{ message = "Fake server error: $_"; type = 'server_error' } } } catch { }
        }
    }
}
finally {
    $listener.Close()
    Write-Host 'Fake OpenAI stopped.'
}
