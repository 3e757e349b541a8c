# Rate limits checked from the other side: a local OpenAI-compatible server (tests/Servers/RateLimitServer)
# logs the arrival of every request, and the tests read that log. A limit of L a minute is held to L/60 a
# second: any window of W seconds may hold L/60 * W requests, plus the limiter's burst (one second's worth,
# which the limiter takes to start with), plus the few requests that a spread of up to 0.5 s between the
# limiter's grant and the server's arrival (a worker's first call is slow, and the machine may be busy) can
# move into the window.

BeforeAll {
    $ProgressPreference = 'SilentlyContinue'
    Import-Module $env:CHECKPOINT_TEST_MODULE
    Import-Module (Join-Path $PSScriptRoot '../Servers/RateLimitServer.psm1') -Force
    $script:ServerDll = Build-RateLimitServer -Destination (Join-Path $PSScriptRoot '../../output/servers/RateLimitServer')
    $script:Utf8 = [System.Text.UTF8Encoding]::new($false)

    function New-IdCsv([string] $Path, [int] $Count) {
        [System.IO.File]::WriteAllText($Path, ((@('id') + (1..$Count | ForEach-Object { "s$_" })) -join "`n") + "`n", $Utf8)
        return $Path
    }

    # What a limit of $PerMinute allows in any window of $Seconds, and the shortest time in which $Count
    # requests can pass it.
    function Get-Allowed([double] $PerMinute, [double] $Seconds) {
        $perSecond = $PerMinute / 60
        return [math]::Floor($perSecond * ($Seconds + 0.5)) + [math]::Max(1, [math]::Floor($perSecond)) + 1
    }
    function Get-ShortestSpan([double] $PerMinute, [int] $Count) {
        $perSecond = $PerMinute / 60
        return ($Count - [math]::Max(1, [math]::Floor($perSecond)) - 1) / $perSecond - 0.5
    }

    # One call per sample; the result carries the call's usage, which a token limit debits.
    $script:OneCall = {
        $r = Invoke-RestMethod -Method Post -Uri $using:uri -Body '{"model":"m","messages":[{"role":"user","content":"hi"}]}' -ContentType 'application/json'
        [pscustomobject]@{ id = $_.id; usage = $r.usage }
    }
}

Describe 'A request limit holds across all workers of a run, from the server''s log' {
    It 'sends no more than -RateLimit 600 allows at ThrottleLimit <_>' -ForEach 1, 8, 32 {
        $dir = Join-Path $TestDrive "requests-$_"
        $server = Start-RateLimitServer -Dll $ServerDll -Directory $dir -Rate 100000 -LatencyMs 10 -LifetimeSeconds 60
        try {
            $uri = $server.Uri
            $summary = Start-CheckpointRun -Dataset (New-IdCsv (Join-Path $dir 'ids.csv') 40) -Process $OneCall -ThrottleLimit $_ -RateLimit 600 -OutputDirectory (Join-Path $dir 'out')
        }
        finally { Stop-RateLimitServer $server }
        $log = Read-RateLimitLog $server
        $summary.CompletedSamples | Should -Be 40
        $log.Count | Should -Be 40
        Get-MaxInWindow -Ms $log.Ms -WindowMs 1000 | Should -BeLessOrEqual (Get-Allowed 600 1)
        ($log[-1].Ms - $log[0].Ms) / 1000 | Should -BeGreaterOrEqual (Get-ShortestSpan 600 40)
    }
}

Describe 'A 429 pauses the start of new calls across the whole run' {
    It 'sends nothing to the server until the Retry-After of a 429 has passed, at ThrottleLimit 4' {
        $dir = Join-Path $TestDrive 'retry-after'
        # 10 requests a second with a bucket of 5 and a 3 s Retry-After, against four workers of 300 ms calls
        # (13 a second): one worker meets a 429 while the others' calls still pass, so only a pause of the
        # whole run keeps them from sending during that worker's Retry-After.
        $server = Start-RateLimitServer -Dll $ServerDll -Directory $dir -Rate 10 -Burst 5 -LatencyMs 300 -RetryAfter 3 -LifetimeSeconds 90
        try {
            $uri = $server.Uri
            $summary = Start-CheckpointRun -Dataset (New-IdCsv (Join-Path $dir 'ids.csv') 30) -Process $OneCall -ThrottleLimit 4 -MaxRetries 10 -OutputDirectory (Join-Path $dir 'out')
        }
        finally { Stop-RateLimitServer $server }
        $log = Read-RateLimitLog $server
        $summary.CompletedSamples | Should -Be 30
        $limited = @($log | Where-Object Status -EQ 429)
        $limited.Count | Should -BeGreaterThan 0 -Because 'the test means nothing unless the server pushed back'

        # The requests already sent when the first 429 of a round came back arrive within 0.5 s of it and
        # may be 429s too; they start no pause of their own. After that, nothing until 3 s (less 50 ms of
        # timer slack) after the round's first 429.
        $early = foreach ($opening in $limited) {
            $earlier = @($limited | Where-Object { $_.Ms -lt $opening.Ms -and $opening.Ms - $_.Ms -lt 500 })
            if ($earlier.Count) { continue }
            $log | Where-Object { $_.Ms -ge $opening.Ms + 500 -and $_.Ms -lt $opening.Ms + 2950 } |
                ForEach-Object { 'request {0} at {1:0} ms, {2:0} ms after the 429 at {3:0} ms' -f $_.N, $_.Ms, ($_.Ms - $opening.Ms), $opening.Ms }
        }
        @($early) | Should -BeNullOrEmpty
    }
}

Describe 'A token limit holds, debited from the usage that samples report' {
    It 'spends no more tokens than -TokenRateLimit 36000 allows, at ThrottleLimit 8' {
        $dir = Join-Path $TestDrive 'tokens'
        # The server counts tokens but never runs out; each call uses 120.
        $server = Start-RateLimitServer -Dll $ServerDll -Directory $dir -Limit tokens -Rate 100000000 -Tokens 120 -LatencyMs 10 -LifetimeSeconds 60
        try {
            $uri = $server.Uri
            $summary = Start-CheckpointRun -Dataset (New-IdCsv (Join-Path $dir 'ids.csv') 40) -Process $OneCall -ThrottleLimit 8 -TokenRateLimit 36000 -OutputDirectory (Join-Path $dir 'out')
        }
        finally { Stop-RateLimitServer $server }
        $log = Read-RateLimitLog $server
        $summary.CompletedSamples | Should -Be 40
        $summary.InputTokens + $summary.OutputTokens | Should -Be (40 * 120)
        # 600 tokens a second and a bucket of as many, plus the 8 calls that may be in flight before their
        # usage is known, plus the 0.5 s spread: 3,060 tokens (25 calls) in any 2 s; 4,800 take 4.9 s or more.
        $inFlight = 8 * 120
        (Get-MaxInWindow -Ms $log.Ms -WindowMs 2000) * 120 | Should -BeLessOrEqual (600 * 2.5 + 600 + $inFlight)
        ($log[-1].Ms - $log[0].Ms) / 1000 | Should -BeGreaterOrEqual ((40 * 120 - 600 - $inFlight) / 600 - 0.5)
    }
}

Describe 'examples/gsm8k-self-correction.ps1 under -RateLimit' {
    It 'keeps both calls of each problem under the limit, at ThrottleLimit 8' {
        $dir = Join-Path $TestDrive 'example'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $problems = 1..20 | ForEach-Object { @{ question = "What is $_ times 2?"; answer = "$_ * 2 = $($_ * 2)`n#### $($_ * 2)" } | ConvertTo-Json -Compress }
        $dataset = Join-Path $dir 'gsm8k.jsonl'
        [System.IO.File]::WriteAllText($dataset, ($problems -join "`n") + "`n", $Utf8)
        $server = Start-RateLimitServer -Dll $ServerDll -Directory $dir -Rate 100000 -LatencyMs 10 -LifetimeSeconds 60
        $example = Join-Path $PSScriptRoot '../../examples/gsm8k-self-correction.ps1'
        $arguments = @{
            Dataset = $dataset; Model = 'rate-test'; Endpoint = $server.Endpoint; ApiKey = 'sk-rate-test'; ThrottleLimit = 8
            OutputDirectory = (Join-Path $dir 'out'); Module = $env:CHECKPOINT_TEST_MODULE
        }
        # The example passes -RateLimit on if it takes it; otherwise the default reaches its Start-CheckpointRun.
        $PSDefaultParameterValues = @{ 'Start-CheckpointRun:RateLimit' = 600 }
        if ((Get-Command $example).Parameters.ContainsKey('RateLimit')) { $arguments['RateLimit'] = 600 }
        try { $summary = & $example @arguments 3>$null }
        finally { Stop-RateLimitServer $server }
        $log = Read-RateLimitLog $server
        $summary.CompletedSamples | Should -Be 20
        $log.Count | Should -Be 40
        Get-MaxInWindow -Ms $log.Ms -WindowMs 1000 | Should -BeLessOrEqual (Get-Allowed 600 1)
        ($log[-1].Ms - $log[0].Ms) / 1000 | Should -BeGreaterOrEqual (Get-ShortestSpan 600 40)
    }
}
