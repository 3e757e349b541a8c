<#
    Retries, timeouts and outages against a real HTTP server: a child pwsh runs Resilience/Start-FlakyServer.ps1
    on 127.0.0.1 (a free port, stopping by itself after 150 s) and logs every call it gets. The blocks call it
    with Invoke-RestMethod; the tests compare the server's log (what was really sent, and when) with the
    checkpoint's JSONL and errors log bytes.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force

    $serverDir = Join-Path $TestDrive 'server'
    New-Item -ItemType Directory -Path $serverDir | Out-Null
    $portFile = Join-Path $serverDir 'port'
    $serverLog = Join-Path $serverDir 'calls.jsonl'
    $script:Server = Start-Process -FilePath (Get-PwshPath) -PassThru `
        -ArgumentList '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Resilience/Start-FlakyServer.ps1'), '-PortFile', $portFile, '-LogPath', $serverLog, '-LifetimeSeconds', '150' `
        -RedirectStandardOutput (Join-Path $serverDir 'stdout') -RedirectStandardError (Join-Path $serverDir 'stderr')
    if (-not (Wait-Condition { (Test-Path $portFile) -or $Server.HasExited } -TimeoutSeconds 30) -or $Server.HasExited) {
        throw "The test server did not start: $(Get-Content (Join-Path $serverDir 'stderr') -Raw -ErrorAction Ignore)"
    }
    $port = [int](Get-Content $portFile -Raw)
    $base = "http://127.0.0.1:$port"

    function Get-ServerCall {
        # The server's logged calls to one path, in order, with their UTC times.
        param([Parameter(Mandatory)][string] $Path)
        @(Get-Content -LiteralPath $serverLog | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object path -EQ $Path |
                ForEach-Object { [pscustomobject]@{ Time = ([DateTimeOffset]$_.t).UtcDateTime; Status = $_.status; Call = $_.call } })
    }

    function Get-CallGap {
        # Seconds between consecutive calls.
        param([object[]] $Calls)
        @(for ($i = 1; $i -lt $Calls.Count; $i++) { ($Calls[$i].Time - $Calls[$i - 1].Time).TotalSeconds })
    }

    function New-UrlDataset {
        # A CSV with id and url (and extra columns) in a fresh folder; returns the folder's paths.
        param([Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][object[]] $Rows)
        $dir = Join-Path $TestDrive $Name
        [pscustomobject]@{
            Csv = New-ResilienceCsv -Path (Join-Path $dir 'data.csv') -Rows $Rows
            Out = Join-Path $dir 'out'
        }
    }

    function Get-RecordOf {
        param([object[]] $Records, [string] $Id)
        @($Records | Where-Object sample_id -EQ $Id)
    }

    $callBlock = { Invoke-RestMethod -Uri $_.url -TimeoutSec 30 }
}

AfterAll {
    if ($script:Server -and -not $script:Server.HasExited) {
        try { $null = Invoke-RestMethod "$base/stop" -TimeoutSec 5 } catch { }
        if (-not $script:Server.WaitForExit(5000)) { Stop-ChildProcess $script:Server }
    }
}

Describe 'Transient HTTP answers are retried, with Retry-After honoured' {
    BeforeAll {
        $d = New-UrlDataset 'retry' @(
            [ordered]@{ id = 'ok1'; url = "$base/ok/ok1" }
            [ordered]@{ id = 'rl1'; url = "$base/429/rl1?n=2&after=1" }
            [ordered]@{ id = 'se1'; url = "$base/500/se1?n=2" }
            [ordered]@{ id = 'ok2'; url = "$base/ok/ok2" }
        )
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -MaxRetries 3
        $file = Read-CheckpointFile $summary.Path
    }

    It 'completes every sample, once, in whole checksummed lines' {
        $summary.Status | Should -Be 'Completed'
        $file.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $file.Records
        foreach ($id in 'ok1', 'rl1', 'se1', 'ok2') { $completed[$id] | Should -Be 1 -Because $id }
    }

    It 'waits the Retry-After of a 429 (1 s) between calls even with -RetryDelaySeconds 0.01' {
        $calls = Get-ServerCall '/429/rl1'
        @($calls.Status) | Should -Be @(429, 429, 200)
        foreach ($gap in Get-CallGap $calls) { $gap | Should -BeGreaterOrEqual 0.9 }
        $records = Get-RecordOf $file.Records 'rl1'
        @($records.status) | Should -Be @('failed', 'failed', 'completed')
        @($records | Select-Object -First 2 | ForEach-Object { $_.error.http_status }) | Should -Be @(429, 429)
        @($records | Select-Object -First 2 | ForEach-Object { $_.final }) | Should -Be @($false, $false)
        @($records.attempt) | Should -Be @(1, 2, 3)
    }

    It 'retries 500s and then completes' {
        @((Get-ServerCall '/500/se1').Status) | Should -Be @(500, 500, 200)
        $records = Get-RecordOf $file.Records 'se1'
        @($records.status) | Should -Be @('failed', 'failed', 'completed')
        @($records | Select-Object -First 2 | ForEach-Object { $_.error.http_status }) | Should -Be @(500, 500)
        @($records | Select-Object -First 2 | ForEach-Object { $_.error.transient }) | Should -Be @($true, $true)
        @($records | Select-Object -First 2 | ForEach-Object { $_.final }) | Should -Be @($false, $false)
        $records[2].output.call | Should -Be 3
    }
}

Describe '-MaxRetryDelaySeconds caps a long Retry-After' {
    It 'waits at most 0.2 s, not the 30 s the server asked for' {
        $d = New-UrlDataset 'cap' @([ordered]@{ id = 'cap1'; url = "$base/429/cap1?n=1&after=30" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -MaxRetryDelaySeconds 0.2
        $summary.Status | Should -Be 'Completed'
        $calls = Get-ServerCall '/429/cap1'
        @($calls.Status) | Should -Be @(429, 200)
        (Get-CallGap $calls)[0] | Should -BeLessThan 5
    }
}

Describe 'A 400 is permanent' {
    BeforeAll {
        $d = New-UrlDataset 'bad400' @(
            [ordered]@{ id = 'br1'; url = "$base/400/br1" }
            [ordered]@{ id = 'ok3'; url = "$base/ok/ok3" }
        )
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -MaxRetries 3
        $file = Read-CheckpointFile $summary.Path
        $errorsLog = Get-RunFile $d.Out '_errors.log'
    }

    It 'is called exactly once' {
        @(Get-ServerCall '/400/br1').Count | Should -Be 1
    }

    It 'has one failed record with final true and http_status 400' {
        $file.Problems | Should -BeNullOrEmpty
        $records = Get-RecordOf $file.Records 'br1'
        $records.Count | Should -Be 1
        $records[0].status | Should -Be 'failed'
        $records[0].final | Should -BeTrue
        $records[0].error.http_status | Should -Be 400
        $records[0].error.transient | Should -BeFalse
        $summary.FailedSamples | Should -Be 1
        $summary.CompletedSamples | Should -Be 1
        (Get-CheckpointStats -Path $summary.Path).FailedSamples | Should -Be 1
    }

    It 'names the 400 in the errors log block of the sample' {
        $text = Get-Content -LiteralPath $errorsLog -Raw
        $text | Should -Match '(?m)^=== \S+  sample br1  attempt 1 ===$'
        $text | Should -Match '(?m)^http:\s+400$'
        $text | Should -Match '(?m)^transient:\s+no$'
    }
}

Describe '-TimeoutSeconds stops a slow answer' {
    It 'records the slow attempt as a System.TimeoutException and completes on the retry' {
        $d = New-UrlDataset 'slow' @([ordered]@{ id = 'sl1'; url = "$base/slow/sl1?ms=3000&n=1" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -TimeoutSeconds 1 -RetryDelaySeconds 0.01
        $summary.Status | Should -Be 'Completed'
        $file = Read-CheckpointFile $summary.Path
        $file.Problems | Should -BeNullOrEmpty
        $records = Get-RecordOf $file.Records 'sl1'
        @($records.status) | Should -Be @('failed', 'completed')
        $records[0].error.type | Should -Be 'System.TimeoutException'
        $records[0].error.transient | Should -BeTrue
        $records[0].final | Should -BeFalse
        $records[0].duration_ms | Should -BeLessThan 2500 -Because 'the attempt is stopped at 1 s, not when the answer comes at 3 s'
        $calls = Get-ServerCall '/slow/sl1'
        $calls.Count | Should -Be 2
        (Get-CallGap $calls)[0] | Should -BeLessThan 2.9
    }
}

Describe 'An API outage longer than -MaxOutageMinutes' {
    BeforeAll {
        $null = Invoke-RestMethod "$base/mode/down"
        $ids = 1..5 | ForEach-Object { "out$_" }
        $d = New-UrlDataset 'outage' @($ids | ForEach-Object { [ordered]@{ id = $_; url = "$base/api/$_" } })
        $outageError = $null
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        try {
            $null = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -MaxConsecutiveFailures 3 -OutageWaitSeconds 0.5 -MaxOutageMinutes 0.05 -WarningAction SilentlyContinue
        }
        catch { $outageError = $_ }
        $outageSeconds = $clock.Elapsed.TotalSeconds
        $jsonl = Get-RunFile $d.Out '.jsonl'
        $fileAfterOutage = Read-CheckpointFile $jsonl
        $statsAfterOutage = Get-CheckpointStats -Path $jsonl
        $null = Invoke-RestMethod "$base/mode/ok"
        $resumed = Resume-CheckpointRun -Path $jsonl
        $fileAfterResume = Read-CheckpointFile $jsonl
    }

    It 'ends with a terminating error whose FullyQualifiedErrorId starts with ApiOutage' {
        $outageError | Should -Not -BeNullOrEmpty
        $outageError.FullyQualifiedErrorId | Should -BeLike 'ApiOutage*'
        $outageSeconds | Should -BeLessThan 30
    }

    It 'leaves the samples that failed during the outage pending: last record final false' {
        $fileAfterOutage.Problems | Should -BeNullOrEmpty
        $latest = Get-LatestRecord $fileAfterOutage.Records
        $latest.Count | Should -BeGreaterThan 0
        foreach ($r in $latest.Values) {
            $r.status | Should -Be 'failed'
            $r.final | Should -BeFalse -Because "sample $($r.sample_id) failed during the outage"
            $r.error.http_status | Should -Be 503
        }
        @($fileAfterOutage.Records | Where-Object { $_.status -eq 'failed' -and $_.final }).Count | Should -Be 0
    }

    It 'counts them as PendingSamples, not FailedSamples' {
        $statsAfterOutage.FailedSamples | Should -Be 0
        $statsAfterOutage.CompletedSamples | Should -Be 0
        $statsAfterOutage.PendingSamples | Should -Be 5
    }

    It 'finishes them in a Resume-CheckpointRun once the API is back' {
        $resumed.Status | Should -Be 'Completed'
        $fileAfterResume.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $fileAfterResume.Records
        foreach ($id in $ids) { $completed[$id] | Should -Be 1 -Because $id }
    }
}

Describe 'An API outage shorter than -MaxOutageMinutes' {
    It 'waits it out, probes, and finishes the run Completed' {
        $ids = 1..6 | ForEach-Object { "blip$_" }
        $d = New-UrlDataset 'blip' @($ids | ForEach-Object { [ordered]@{ id = $_; url = "$base/api/$_" } })
        $null = Invoke-RestMethod "$base/mode/down?ms=1500"
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -MaxConsecutiveFailures 3 -OutageWaitSeconds 0.5 -MaxOutageMinutes 1 -WarningVariable seen -WarningAction SilentlyContinue
        @($seen | Where-Object { "$_" -match 'looks down' }).Count | Should -Be 1 -Because 'the outage was noticed'
        @(Get-Content $serverLog | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object { $_.path -like '/api/blip*' -and $_.status -eq 503 }).Count | Should -BeGreaterOrEqual 3
        $file = Read-CheckpointFile $summary.Path
        $file.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $file.Records
        @($ids | Where-Object { $completed[$_] -ne 1 }) | Should -BeNullOrEmpty -Because 'every sample, those that failed during the outage too, completes in the same run'
        $summary.Status | Should -Be 'Completed'
        $summary.PendingSamples | Should -Be 0
        $summary.ProcessedThisRun | Should -Be 6 -Because 'each sample counts once, also one tried again after the outage'
    }
}

Describe 'An outage whose first sample used up its retries before the API was taken to be down' {
    # -MaxRetries 3 gives a sample four attempts, one short of -MaxConsecutiveFailures 5: the first sample uses
    # them all up while the breaker is still closed, and the second sample's first failure opens it. With
    # -RetryDelaySeconds 0 its retries are due at once, and a retry due runs before the next sample starts.
    BeforeAll {
        $null = Invoke-RestMethod "$base/mode/down"
        $ids = 1..5 | ForEach-Object { "vic$_" }
        $d = New-UrlDataset 'victim' @($ids | ForEach-Object { [ordered]@{ id = $_; url = "$base/api/$_" } })
        $outageError = $null
        try {
            $null = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -MaxRetries 3 -MaxConsecutiveFailures 5 -RetryDelaySeconds 0 -OutageWaitSeconds 0.5 -MaxOutageMinutes 0.05 -WarningAction SilentlyContinue
        }
        catch { $outageError = $_ }
        $jsonl = Get-RunFile $d.Out '.jsonl'
        $fileAfterOutage = Read-CheckpointFile $jsonl
        $statsAfterOutage = Get-CheckpointStats -Path $jsonl
        $victimCalls = @((Get-ServerCall '/api/vic1').Status)
        $null = Invoke-RestMethod "$base/mode/ok"
        $resumed = Resume-CheckpointRun -Path $jsonl
        $fileAfterResume = Read-CheckpointFile $jsonl
    }

    AfterAll {
        $null = Invoke-RestMethod "$base/mode/ok"
    }

    It 'stops with ApiOutage after the first sample made its four attempts' {
        $outageError.FullyQualifiedErrorId | Should -BeLike 'ApiOutage*'
        $victimCalls | Should -Be @(503, 503, 503, 503)
    }

    It 'leaves that sample pending: its four records are final false, and no failure on disk is final' {
        $fileAfterOutage.Problems | Should -BeNullOrEmpty
        $victim = Get-RecordOf $fileAfterOutage.Records 'vic1'
        @($victim.status) | Should -Be @('failed', 'failed', 'failed', 'failed')
        @($victim.attempt) | Should -Be @(1, 2, 3, 4)
        @($victim.final) | Should -Be @($false, $false, $false, $false)
        @($fileAfterOutage.Records | Where-Object { $_.status -eq 'failed' -and $_.final }).Count | Should -Be 0
    }

    It 'counts no sample failed' {
        $statsAfterOutage.FailedSamples | Should -Be 0
        $statsAfterOutage.CompletedSamples | Should -Be 0
        $statsAfterOutage.PendingSamples | Should -Be 5
    }

    It 'finishes every sample in a Resume-CheckpointRun once the API is back' {
        $resumed.Status | Should -Be 'Completed'
        $resumed.FailedSamples | Should -Be 0
        $fileAfterResume.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $fileAfterResume.Records
        foreach ($id in $ids) { $completed[$id] | Should -Be 1 -Because $id }
    }

    It 'finishes in the same run, none failed, when the outage is shorter than -MaxOutageMinutes' {
        $ids = 1..4 | ForEach-Object { "brief$_" }
        $d = New-UrlDataset 'victim-brief' @($ids | ForEach-Object { [ordered]@{ id = $_; url = "$base/api/$_" } })
        # Long enough that a loaded machine still makes the first sample's four attempts inside it.
        $null = Invoke-RestMethod "$base/mode/down?ms=3000"
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -MaxRetries 3 -MaxConsecutiveFailures 5 -RetryDelaySeconds 0 -OutageWaitSeconds 0.5 -MaxOutageMinutes 1 -WarningAction SilentlyContinue
        @((Get-ServerCall '/api/brief1').Status) | Should -Be @(503, 503, 503, 503, 200)
        $summary.FailedSamples | Should -Be 0
        $summary.CompletedSamples | Should -Be 4
        $summary.Status | Should -Be 'Completed'
        $file = Read-CheckpointFile $summary.Path
        $file.Problems | Should -BeNullOrEmpty
        @(Get-RecordOf $file.Records 'brief1' | Where-Object status -EQ 'failed' | ForEach-Object { $_.final }) | Should -Be @($false, $false, $false, $false)
        $completed = Get-CompletedCount $file.Records
        foreach ($id in $ids) { $completed[$id] | Should -Be 1 -Because $id }
    }
}

Describe '-RetryOn and -NoRetryOn' {
    It '-RetryOn 409 makes a 409 transient' {
        $d = New-UrlDataset 'retryon' @([ordered]@{ id = 'cf1'; url = "$base/409/cf1?n=1" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -RetryOn 409
        $summary.Status | Should -Be 'Completed'
        @((Get-ServerCall '/409/cf1').Status) | Should -Be @(409, 200)
        $records = (Read-CheckpointFile $summary.Path).Records
        $records[0].error.http_status | Should -Be 409
        $records[0].error.transient | Should -BeTrue
        $records[0].final | Should -BeFalse
    }

    It 'without -RetryOn a 409 is permanent (control)' {
        $d = New-UrlDataset 'retryon-control' @([ordered]@{ id = 'cf2'; url = "$base/409/cf2?n=1" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01
        $summary.FailedSamples | Should -Be 1
        @((Get-ServerCall '/409/cf2').Status) | Should -Be @(409)
        $records = @((Read-CheckpointFile $summary.Path).Records)
        $records.Count | Should -Be 1
        $records[0].final | Should -BeTrue
    }

    It '-NoRetryOn 503 makes a 503 permanent' {
        $d = New-UrlDataset 'noretryon' @([ordered]@{ id = 'su1'; url = "$base/503/su1?n=1" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01 -NoRetryOn 503
        $summary.FailedSamples | Should -Be 1
        @((Get-ServerCall '/503/su1').Status) | Should -Be @(503)
        $records = @((Read-CheckpointFile $summary.Path).Records)
        $records.Count | Should -Be 1
        $records[0].status | Should -Be 'failed'
        $records[0].final | Should -BeTrue
        $records[0].error.http_status | Should -Be 503
        $records[0].error.transient | Should -BeFalse
    }

    It 'without -NoRetryOn a 503 is retried (control)' {
        $d = New-UrlDataset 'noretryon-control' @([ordered]@{ id = 'su2'; url = "$base/503/su2?n=1" })
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $callBlock -RetryDelaySeconds 0.01
        $summary.Status | Should -Be 'Completed'
        @((Get-ServerCall '/503/su2').Status) | Should -Be @(503, 200)
    }
}

Describe 'An Authorization header echoed back in an error never reaches the disk' {
    BeforeAll {
        $token = 'tok' + [guid]::NewGuid().ToString('n')
        $basic = [Convert]::ToBase64String([System.Text.Encoding]::ASCII.GetBytes('alice:' + [guid]::NewGuid().ToString('n')))
        $env:RESILIENCE_TEST_BEARER = "Bearer $token"
        $env:RESILIENCE_TEST_BASIC = "Basic $basic"
        $d = New-UrlDataset 'secret' @(
            [ordered]@{ id = 'au1'; scheme = 'bearer'; url = "$base/echo401/au1" }
            [ordered]@{ id = 'au2'; scheme = 'basic'; url = "$base/echo401/au2" }
        )
        $authBlock = {
            $auth = if ($_.scheme -eq 'bearer') { $env:RESILIENCE_TEST_BEARER } else { $env:RESILIENCE_TEST_BASIC }
            Invoke-RestMethod -Uri $_.url -Headers @{ Authorization = $auth } -TimeoutSec 30
        }
        $summary = Start-CheckpointRun $d.Csv -OutputDirectory $d.Out -Process $authBlock -RetryDelaySeconds 0.01
        $jsonl = $summary.Path
        $errorsLog = Get-RunFile $d.Out '_errors.log'
        $file = Read-CheckpointFile $jsonl
    }

    AfterAll {
        Remove-Item Env:RESILIENCE_TEST_BEARER, Env:RESILIENCE_TEST_BASIC -ErrorAction Ignore
    }

    It 'fails each sample once with the 401 and the echoed body in the message (the test is live)' {
        @(Get-ServerCall '/echo401/au1').Count | Should -Be 1
        @(Get-ServerCall '/echo401/au2').Count | Should -Be 1
        foreach ($r in $file.Records) {
            $r.error.http_status | Should -Be 401
            $r.final | Should -BeTrue
            $r.error.message | Should -Match 'received_headers' -Because 'the server echoed the request headers into the error'
        }
        (Get-Content -LiteralPath $errorsLog -Raw) | Should -Match 'received_headers'
    }

    It 'keeps a Bearer token out of the JSONL and the errors log' {
        Test-BytesContain $jsonl $token | Should -BeFalse
        Test-BytesContain $errorsLog $token | Should -BeFalse
    }

    It 'keeps Basic credentials out of the JSONL and the errors log' {
        Test-BytesContain $jsonl $basic | Should -BeFalse
        Test-BytesContain $errorsLog $basic | Should -BeFalse
    }
}
