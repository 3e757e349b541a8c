<#
    A kill campaign: a child pwsh runs (or resumes) a run of 1500 samples whose block fails transiently at
    random, and the test kills it with SIGKILL at random moments (0.3-1.5 s after it holds the run's lock) at
    least 20 times, some rounds at -ThrottleLimit 4, then lets it finish. The JSONL must hold every sample
    completed exactly once, in whole checksummed lines, and every count must agree.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:Children = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $script:ChildModule = Copy-ModuleSnapshot (Join-Path $TestDrive 'module')
}

AfterAll {
    foreach ($child in $script:Children) { Stop-ChildProcess $child }
}

Describe 'Kill campaign: SIGKILL at random moments, then resume' {
    BeforeAll {
        $work = Join-Path $TestDrive 'kill'
        $out = Join-Path $work 'out'
        $sampleCount = 1500
        $minimumKills = 20
        $rows = foreach ($i in 1..$sampleCount) { [ordered]@{ id = 'k{0:d4}' -f $i; n = $i; text = "row $i, with ""quotes"" and a comma" } }
        $csv = New-ResilienceCsv -Path (Join-Path $work 'data.csv') -Rows $rows
        # Attempt-dependent flakiness: the shared unseeded Random, not Get-Random (seeded per sample).
        $block = @'
Start-Sleep -Milliseconds (5 + [System.Random]::Shared.Next(20))
if ([System.Random]::Shared.Next(10) -eq 0) { throw [System.TimeoutException]::new("flaky attempt $($CheckpointContext.Attempt)") }
[pscustomobject]@{ id = $_.id; doubled = 2 * [int]$_.n; attempt = $CheckpointContext.Attempt }
'@
        $rounds = [System.Collections.Generic.List[object]]::new()
        $round = 0
        $killed = 0
        $killedParallel = 0
        $finishedEarly = $false
        while (($killed -lt $minimumKills -or $killedParallel -lt 2) -and $round -lt 45) {
            $round++
            $jsonl = Get-RunFile $out '.jsonl'
            $throttle = if ($round % 6 -eq 3) { 4 } else { 1 }
            $command = if (-not $jsonl -or $round % 2 -eq 1) { 'Start' } else { 'Resume' }
            $spec = [ordered]@{
                Module = $ChildModule; Command = $command; Dataset = $csv; OutputDirectory = $out; Path = $jsonl; Block = $block
                Parameters = @{ ThrottleLimit = $throttle; RetryDelaySeconds = 0; MaxRetries = 10 }
                ResultPath = Join-Path $work "round$round.json"
            }
            $child = Start-CheckpointChild $spec
            $Children.Add($child)
            $holding = Wait-RunStarted $child $out -TimeoutSeconds 40
            $delay = Get-Random -Minimum 300 -Maximum 1501
            if ($holding) { Start-Sleep -Milliseconds $delay }
            $alive = -not $child.HasExited
            if ($alive) { $child.Kill() }
            if (-not (Wait-ChildExit $child 15)) { throw "Round ${round}: the child did not exit within 15 s of SIGKILL." }
            $rounds.Add([pscustomobject]@{ Round = $round; Command = $command; Throttle = $throttle; DelayMs = $delay; Killed = $alive; ExitCode = $child.ExitCode })
            if ($alive) {
                $killed++
                if ($throttle -gt 1) { $killedParallel++ }
                continue
            }
            # The child ended by itself: only a finished run is acceptable.
            $result = Read-ChildResult $spec.ResultPath
            if ($result -and $result.Summary -and $result.Summary.Status -eq 'Completed') { $finishedEarly = $true; break }
            throw "Round $round ended by itself without completing the run:`n$(Get-ChildOutput $spec.ResultPath)"
        }

        # Let it run to the end.
        $jsonl = Get-RunFile $out '.jsonl'
        $doneBeforeFinal = if ($jsonl) { @((Read-CheckpointFile $jsonl).Records | Where-Object status -EQ 'completed').Count } else { 0 }
        $final = [ordered]@{
            Module = $ChildModule; Command = 'Resume'; Path = $jsonl
            Parameters = @{ ThrottleLimit = 4; RetryDelaySeconds = 0; MaxRetries = 10 }
            ResultPath = Join-Path $work 'final.json'
        }
        $child = Start-CheckpointChild $final
        $Children.Add($child)
        if (-not (Wait-ChildExit $child 150)) { throw 'The final run did not end within 150 s.' }
        $finalResult = Read-ChildResult $final.ResultPath
        $finalOutput = Get-ChildOutput $final.ResultPath

        # A clean run on the finished checkpoint, in this process: it loads everything and must warn about nothing.
        $bytesBefore = [System.IO.File]::ReadAllBytes($jsonl)
        $clean = Resume-CheckpointRun -Path $jsonl -ThrottleLimit 1 -WarningVariable cleanWarnings -WarningAction SilentlyContinue -ErrorVariable cleanErrors -ErrorAction SilentlyContinue
        $bytesAfter = [System.IO.File]::ReadAllBytes($jsonl)
        $stats = Get-CheckpointStats -Path $jsonl -WarningVariable statsWarnings -WarningAction SilentlyContinue
        $file = Read-CheckpointFile $jsonl
        $sidecars = @(Get-ChildItem -LiteralPath $out -File | Where-Object Name -Like '*.jsonl.damaged-*')
        $report = "kills: $killed ($killedParallel at ThrottleLimit 4) in $round rounds; completed before the final run: $doneBeforeFinal of $sampleCount; lines: $($file.Lines.Count); sidecars: $($sidecars.Count); final-run warnings: $(@($finalResult.Warnings).Count)"
        Write-Host "    [kill campaign] $report"
    }

    It 'killed the working run with SIGKILL at least 20 times, at least twice at -ThrottleLimit 4' {
        $finishedEarly | Should -BeFalse -Because "the dataset must outlast the campaign ($report)"
        $killed | Should -BeGreaterOrEqual $minimumKills
        $killedParallel | Should -BeGreaterOrEqual 2
        @($rounds | Where-Object { $_.Killed -and $_.ExitCode -ne 137 }).Count | Should -Be 0 -Because 'every killed child dies of SIGKILL (exit 137)'
    }

    It 'finished in the final run without an error' {
        $finalResult | Should -Not -BeNullOrEmpty -Because $finalOutput
        $finalResult.Terminating | Should -BeNullOrEmpty -Because $finalOutput
        @($finalResult.Errors).Count | Should -Be 0 -Because $finalOutput
        $finalResult.Summary.Status | Should -Be 'Completed' -Because $finalOutput
        $finalResult.Summary.CompletedSamples | Should -Be $sampleCount
    }

    It 'holds only whole lines, every one parsed by ConvertFrom-Json and with a correct CRC-32C' {
        $file.Problems | Should -BeNullOrEmpty
        $file.EndsWithNewline | Should -BeTrue
        @($file.Lines | Where-Object { $null -eq $_.Record }).Count | Should -Be 0
        @($file.Records | Where-Object { $_.v -ne 1 }).Count | Should -Be 0
    }

    It 'moved nothing but cut tails into .damaged-* sidecars: no whole record was ever cut off' {
        foreach ($sidecar in $sidecars) {
            $bytes = [System.IO.File]::ReadAllBytes($sidecar.FullName)
            $bytes.Length | Should -BeGreaterThan 0
            $start = 0
            while ($start -lt $bytes.Length) {
                $newline = [Array]::IndexOf($bytes, [byte]10, $start)
                $end = if ($newline -lt 0) { $bytes.Length } else { $newline }
                [ResilienceTests.Crc32C]::LineHasValidCrc($bytes, $start, $end - $start) | Should -BeFalse -Because "'$($sidecar.Name)' holds a valid record at byte $start"
                $start = $end + 1
            }
        }
    }

    It 'has exactly one completed record for every sample id of the dataset, and none for any other id' {
        $completed = Get-CompletedCount $file.Records
        $ids = @($rows | ForEach-Object { $_.id })
        @($ids | Where-Object { $completed[$_] -ne 1 } | ForEach-Object { "$_ x$([int]$completed[$_])" }) | Should -BeNullOrEmpty
        @($completed.Keys | Where-Object { $_ -notin $ids }) | Should -BeNullOrEmpty
        @($file.Records | Where-Object { $_.sample_id -notin $ids }) | Should -BeNullOrEmpty
    }

    It 'never touched a sample again after its completed record, and numbered its attempts in order' {
        $done = @{}
        $lastAttempt = @{}
        $problems = foreach ($r in $file.Records) {
            if ($done.ContainsKey($r.sample_id)) { "line for $($r.sample_id) after its completed record" }
            if ($lastAttempt.ContainsKey($r.sample_id) -and $r.attempt -le $lastAttempt[$r.sample_id]) { "$($r.sample_id): attempt $($r.attempt) after $($lastAttempt[$r.sample_id])" }
            $lastAttempt[$r.sample_id] = $r.attempt
            if ($r.status -eq 'completed') { $done[$r.sample_id] = $true }
        }
        @($problems) | Should -BeNullOrEmpty
    }

    It 'recorded the right output for every completed sample and only transient failures before it' {
        $byId = @{}
        foreach ($row in $rows) { $byId[$row.id] = $row }
        $bad = foreach ($r in $file.Records) {
            if ($r.status -eq 'completed') {
                if ($r.output.id -ne $r.sample_id -or $r.output.doubled -ne 2 * $byId[$r.sample_id].n -or $r.output.attempt -ne $r.attempt -or $null -ne $r.error) { "bad completed record for $($r.sample_id): output $($r.output | ConvertTo-Json -Compress), attempt $($r.attempt)" }
            }
            elseif ($r.status -eq 'failed') {
                if ($r.error.type -ne 'System.TimeoutException' -or -not $r.error.transient -or $null -ne $r.output) { "bad failed record for $($r.sample_id): $($r.error.type)" }
            }
            else { "unknown status '$($r.status)' for $($r.sample_id)" }
        }
        @($bad) | Should -BeNullOrEmpty
        @($file.Records | Where-Object status -EQ 'failed').Count | Should -BeGreaterThan 0 -Because 'the block fails one attempt in ten'
    }

    It 'loads with no warning in a final clean run, which appends nothing' {
        @($cleanWarnings) | Should -BeNullOrEmpty
        @($cleanErrors) | Should -BeNullOrEmpty
        $clean.Status | Should -Be 'Completed'
        $clean.ProcessedThisRun | Should -Be 0
        $bytesAfter.Length | Should -Be $bytesBefore.Length
        [System.Linq.Enumerable]::SequenceEqual($bytesBefore, $bytesAfter) | Should -BeTrue
        @($statsWarnings) | Should -BeNullOrEmpty
    }

    It 'has Get-CheckpointStats agree with a recount of the file and with the dataset rows' {
        $latest = Get-LatestRecord $file.Records
        $recount = @($latest.Values | Where-Object status -EQ 'completed').Count
        $stats.CompletedSamples | Should -Be $recount
        $stats.CompletedSamples | Should -Be $sampleCount
        $stats.TotalSamples | Should -Be $sampleCount
        $stats.FailedSamples | Should -Be 0
        $stats.PendingSamples | Should -Be 0
        $stats.ErrorCount | Should -Be @($file.Records | Where-Object status -EQ 'failed').Count
        $stats.Status | Should -Be 'Completed'
        (Read-StateStatus $out) | Should -Be 'Completed'
    }
}
