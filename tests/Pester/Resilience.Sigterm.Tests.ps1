<#
    SIGTERM (what Slurm, Kubernetes and systemd send before they kill): a child pwsh runs a run whose block
    sleeps 2 s per sample, and the test sends `kill -s TERM` at random moments, at -ThrottleLimit 1 (the block
    runs in the caller's runspace) and at -ThrottleLimit 4 (worker runspaces). Each stop must interrupt the
    sleeping block, end the process within 5 s, leave the state "Interrupted" and the JSONL in whole lines.
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

Describe 'SIGTERM stops a run cleanly' {
    BeforeAll {
        $work = Join-Path $TestDrive 'sigterm'
        $out = Join-Path $work 'out'
        $marker = Join-Path $work 'slept.log'
        $sampleCount = 24
        $rows = foreach ($i in 1..$sampleCount) { [ordered]@{ id = 't{0:d2}' -f $i; n = $i } }
        $csv = New-ResilienceCsv -Path (Join-Path $work 'data.csv') -Rows $rows
        # The marker line is written only when a 2 s sleep ran to its end: a stop must never let one finish late.
        $block = @"
Start-Sleep -Seconds 2
[System.IO.File]::AppendAllText('$marker', `$_.id + ' ' + [DateTime]::UtcNow.ToString('o') + "``n")
[pscustomobject]@{ id = `$_.id; n = [int]`$_.n }
"@
        $rounds = [System.Collections.Generic.List[object]]::new()
        $plan = @(1, 4, 1, 4, 1, 4)
        for ($round = 1; $round -le $plan.Count; $round++) {
            $throttle = $plan[$round - 1]
            $jsonl = Get-RunFile $out '.jsonl'
            $command = if (-not $jsonl -or $round % 2 -eq 1) { 'Start' } else { 'Resume' }
            $spec = [ordered]@{
                Module = $ChildModule; Command = $command; Dataset = $csv; OutputDirectory = $out; Path = $jsonl; Block = $block
                Parameters = @{ ThrottleLimit = $throttle; RetryDelaySeconds = 0 }
                ResultPath = Join-Path $work "round$round.json"
            }
            $child = Start-CheckpointChild $spec
            $Children.Add($child)
            $holding = Wait-RunStarted $child $out -TimeoutSeconds 40
            # A random moment: mostly inside a 2 s sleep, sometimes after a sample completed.
            $delay = Get-Random -Minimum 300 -Maximum 3000
            if ($holding) { Start-Sleep -Milliseconds $delay }
            $signalled = [DateTime]::UtcNow
            $endedEarly = $child.HasExited
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            if (-not $endedEarly) { & kill -s TERM $child.Id }
            # Bounded: a child still running 6 s after SIGTERM is reported as hung and killed.
            $exited = Wait-ChildExit $child 6
            $stopSeconds = $clock.Elapsed.TotalSeconds
            if (-not $exited) { Stop-ChildProcess $child }
            $jsonl = Get-RunFile $out '.jsonl'
            $file = if ($jsonl) { Read-CheckpointFile $jsonl } else { $null }
            $late = @(if ($file) { $file.Records | Where-Object { ([DateTimeOffset]$_.completed_at).UtcDateTime -gt $signalled.AddMilliseconds(250) } })
            $sleptLate = @(if (Test-Path $marker) {
                    Get-Content $marker | Where-Object { $_ } | Where-Object { ([DateTimeOffset]($_ -split ' ')[1]).UtcDateTime -gt $signalled.AddMilliseconds(250) }
                })
            $rounds.Add([pscustomobject]@{
                    Round = $round; Throttle = $throttle; Command = $command; DelayMs = $delay; Holding = $holding; EndedEarly = $endedEarly
                    Exited = $exited; StopSeconds = [math]::Round($stopSeconds, 2)
                    State = Read-StateStatus $out; Problems = @(if ($file) { $file.Problems }); LateRecords = $late.Count; LateSleeps = $sleptLate.Count
                    Failed = @(if ($file) { $file.Records | Where-Object status -EQ 'failed' }).Count
                    Completed = @(if ($file) { $file.Records | Where-Object status -EQ 'completed' }).Count
                    Output = Get-ChildOutput $spec.ResultPath
                })
        }

        $jsonl = Get-RunFile $out '.jsonl'
        $final = [ordered]@{
            Module = $ChildModule; Command = 'Resume'; Path = $jsonl; Parameters = @{ ThrottleLimit = 8 }
            ResultPath = Join-Path $work 'final.json'
        }
        $child = Start-CheckpointChild $final
        $Children.Add($child)
        if (-not (Wait-ChildExit $child 90)) { Stop-ChildProcess $child; throw 'The final run did not end within 90 s.' }
        $finalResult = Read-ChildResult $final.ResultPath
        $finalOutput = Get-ChildOutput $final.ResultPath
        $file = Read-CheckpointFile $jsonl
        $stats = Get-CheckpointStats -Path $jsonl
        $table = ($rounds | Format-Table Round, Throttle, Command, DelayMs, Exited, StopSeconds, State, Completed, LateRecords, LateSleeps | Out-String -Width 200).Trim()
        Write-Host "    [sigterm rounds]`n$table"
    }

    It 'ran at least 5 rounds, at -ThrottleLimit 1 and at -ThrottleLimit 4, each signalled while the run was working' {
        $rounds.Count | Should -BeGreaterOrEqual 5
        foreach ($r in $rounds) {
            $r.Holding | Should -BeTrue -Because "round $($r.Round) must have held the run's lock`n$($r.Output)"
            $r.EndedEarly | Should -BeFalse -Because "round $($r.Round) must still run when signalled`n$($r.Output)"
        }
        @($rounds | Where-Object Throttle -EQ 1).Count | Should -BeGreaterOrEqual 2
        @($rounds | Where-Object Throttle -EQ 4).Count | Should -BeGreaterOrEqual 2
    }

    It 'ended the process within 5 s of each SIGTERM' {
        foreach ($r in $rounds) {
            $r.Exited | Should -BeTrue -Because "round $($r.Round) (ThrottleLimit $($r.Throttle)) must exit after SIGTERM`n$($r.Output)"
            $r.StopSeconds | Should -BeLessThan 5 -Because "round $($r.Round) (ThrottleLimit $($r.Throttle))"
        }
    }

    It 'interrupted the sleeping block instead of waiting for it to finish' {
        foreach ($r in $rounds) {
            $r.LateSleeps | Should -Be 0 -Because "round $($r.Round) (ThrottleLimit $($r.Throttle)): no 2 s sleep may run to its end after the signal"
            $r.LateRecords | Should -Be 0 -Because "round $($r.Round) (ThrottleLimit $($r.Throttle)): no record may be completed after the signal"
        }
    }

    It 'left the state file "Interrupted" after each stop' {
        foreach ($r in $rounds) { $r.State | Should -Be 'Interrupted' -Because "round $($r.Round) (ThrottleLimit $($r.Throttle))`n$($r.Output)" }
    }

    It 'left only whole, checksummed lines after each stop, and no failure record for an interrupted attempt' {
        foreach ($r in $rounds) {
            $r.Problems | Should -BeNullOrEmpty -Because "round $($r.Round)"
            $r.Failed | Should -Be 0 -Because "round $($r.Round): an attempt stopped by SIGTERM stays pending, it did not fail"
        }
    }

    It 'then finishes the run with every sample completed exactly once' {
        $finalResult.Summary.Status | Should -Be 'Completed' -Because $finalOutput
        $file.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $file.Records
        foreach ($row in $rows) { $completed[$row.id] | Should -Be 1 -Because "sample $($row.id)" }
        @($file.Records | Where-Object status -NE 'completed').Count | Should -Be 0
        foreach ($r in $file.Records) { $r.output.n | Should -Be ([int]$r.sample_id.Substring(1)) }
        $stats.CompletedSamples | Should -Be $sampleCount
        $stats.PendingSamples | Should -Be 0
        (Read-StateStatus $out) | Should -Be 'Completed'
    }
}
