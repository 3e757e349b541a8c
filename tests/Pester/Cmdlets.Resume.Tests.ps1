BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $resumeId = 'Checkpoint.Commands.ResumeCheckpointRunCommand'
}

Describe 'Resume-CheckpointRun: choosing the run' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 5
        $log = Join-Path $dir 'calls.log'
        # Two samples done, three pending; the stored block logs its calls to $log.
        $started = Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process (New-LoggedBlock $log -Body "'stored ' + `$_.id")
        $started.Status | Should -Be 'Incomplete'
        Remove-Item $log
    }

    It 'resumes -RunId with the stored block, processing only the pending samples' {
        $summary = Resume-CheckpointRun -RunId $started.RunId -OutputDirectory $out
        Get-LoggedCall $log | Should -Be @('q3', 'q4', 'q5')
        $summary.GetType().FullName | Should -Be 'Checkpoint.RunSummary'
        $summary.RunId | Should -Be $started.RunId
        $summary.Status | Should -Be 'Completed'
        $summary.ProcessedThisRun | Should -Be 3
        $summary.SkippedThisRun | Should -Be 2
        (Read-JsonlRecord $summary.Path).output | Should -Be @('stored q1', 'stored q2', 'stored q3', 'stored q4', 'stored q5')
    }

    It 'takes the run by property name from Get-CheckpointStats' {
        $summaries = @(Get-CheckpointStats -OutputDirectory $out | Resume-CheckpointRun)
        $summaries.Count | Should -Be 1
        $summaries[0].RunId | Should -Be $started.RunId
        $summaries[0].Status | Should -Be 'Completed'
        Get-LoggedCall $log | Should -Be @('q3', 'q4', 'q5')
    }

    It 'takes the run by -Path to its .jsonl file' {
        $summary = Resume-CheckpointRun -Path $started.Path
        $summary.RunId | Should -Be $started.RunId
        $summary.CompletedSamples | Should -Be 5
        Get-LoggedCall $log | Should -Be @('q3', 'q4', 'q5')
    }

    It 'takes the run relative to the current location' {
        Push-Location $dir
        try { $summary = Resume-CheckpointRun $started.RunId -OutputDirectory 'out' } finally { Pop-Location }
        $summary.Status | Should -Be 'Completed'
        Get-LoggedCall $log | Should -Be @('q3', 'q4', 'q5')
    }

    It 'resumes -Latest: the newest run that is not completed' {
        $olderLog = Join-Path $dir 'older.log'
        $doneLog = Join-Path $dir 'done.log'
        # $started is the oldest incomplete run; then a newer incomplete one; then a completed one, newest of all.
        $older = Start-CheckpointRun $csv -Model older -Limit 1 -OutputDirectory $out -Process (New-LoggedBlock $olderLog)
        Start-Sleep -Milliseconds 50
        $newer = Start-CheckpointRun $csv -Model newer -Limit 1 -OutputDirectory $out -Process (New-LoggedBlock $log)
        Start-Sleep -Milliseconds 50
        $done = Start-CheckpointRun $csv -Model done -OutputDirectory $out -Process (New-LoggedBlock $doneLog)
        $done.Status | Should -Be 'Completed'
        Remove-Item $log, $olderLog, $doneLog

        $summaries = @(Resume-CheckpointRun -Latest -OutputDirectory $out)
        $summaries.Count | Should -Be 1
        $summaries[0].RunId | Should -Be $newer.RunId
        $summaries[0].Status | Should -Be 'Completed'
        Get-LoggedCall $log | Should -Be @('q2', 'q3', 'q4', 'q5')
        Get-LoggedCall $olderLog | Should -BeNullOrEmpty
        Get-LoggedCall $doneLog | Should -BeNullOrEmpty
        (Get-CheckpointStats -RunId $older.RunId -OutputDirectory $out).CompletedSamples | Should -Be 1
        (Get-CheckpointStats -RunId $started.RunId -OutputDirectory $out).CompletedSamples | Should -Be 2
    }

    It 'does nothing with -Latest when every run is completed' {
        Resume-CheckpointRun -RunId $started.RunId -OutputDirectory $out | Out-Null
        Remove-Item $log
        $summaries = @(Resume-CheckpointRun -Latest -OutputDirectory $out)
        $summaries.Count | Should -Be 0
        Get-LoggedCall $log | Should -BeNullOrEmpty
    }

    It 'writes RunNotFound for a -RunId that names no run' {
        { Resume-CheckpointRun -RunId '20200101_nope_default_00000000' -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$resumeId"
        Get-LoggedCall $log | Should -BeNullOrEmpty
    }
}

Describe 'Resume-CheckpointRun: what it processes' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 5
        $log = Join-Path $dir 'calls.log'
    }

    It 'processes pending samples and retries failed ones' {
        $started = Start-CheckpointRun $csv -Limit 3 -MaxRetries 0 -OutputDirectory $out -Process { if ($_.id -eq 'q2') { throw 'flaky' }; 'first' }
        $started.FailedSamples | Should -Be 1
        $started.PendingSamples | Should -Be 2
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process (New-LoggedBlock $log -Body "'second'")
        Get-LoggedCall $log | Should -Be @('q2', 'q4', 'q5')
        $summary.Status | Should -Be 'Completed'
        $summary.FailedSamples | Should -Be 0
        $q2 = @(Read-JsonlRecord $summary.Path | Where-Object sample_id -EQ 'q2')
        $q2.status | Should -Be @('failed', 'completed')
        $q2.attempt | Should -Be @(1, 2)
    }

    It 'leaves failed samples alone with -SkipFailed' {
        $started = Start-CheckpointRun $csv -Limit 3 -MaxRetries 0 -OutputDirectory $out -Process { if ($_.id -eq 'q2') { throw 'flaky' }; 'first' }
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out -SkipFailed -Process (New-LoggedBlock $log -Body "'second'")
        Get-LoggedCall $log | Should -Be @('q4', 'q5')
        $summary.Status | Should -Be 'Incomplete'
        $summary.CompletedSamples | Should -Be 4
        $summary.FailedSamples | Should -Be 1
        @(Read-JsonlRecord $summary.Path | Where-Object sample_id -EQ 'q2').Count | Should -Be 1
    }

    It 'uses -Process instead of the stored block' {
        $storedLog = Join-Path $dir 'stored.log'
        $started = Start-CheckpointRun $csv -Limit 1 -OutputDirectory $out -Process (New-LoggedBlock $storedLog -Body "'stored'")
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process (New-LoggedBlock $log -Body "'override'")
        Get-LoggedCall $storedLog | Should -Be @('q1')
        Get-LoggedCall $log | Should -Be @('q2', 'q3', 'q4', 'q5')
        (Read-JsonlRecord $summary.Path).output | Should -Be @('stored', 'override', 'override', 'override', 'override')
    }

    It 'does nothing on a completed run and returns a summary with Status Completed' {
        $started = Start-CheckpointRun $csv -OutputDirectory $out -Process (New-LoggedBlock $log)
        Remove-Item $log
        $before = Get-Content $started.Path -Raw
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out
        Get-LoggedCall $log | Should -BeNullOrEmpty
        $summary.Status | Should -Be 'Completed'
        $summary.ProcessedThisRun | Should -Be 0
        $summary.CompletedSamples | Should -Be 5
        Get-Content $started.Path -Raw | Should -BeExactly $before
    }

    It 'keeps the -MaxRetries of the original start unless given again' {
        # A transient error, so that it is retried; the retry delay is kept like -MaxRetries.
        $body = "if (`$_.id -eq 'q3') { throw [System.TimeoutException]::new('always') }; 'ok'"
        $started = Start-CheckpointRun $csv -MaxRetries 1 -RetryDelaySeconds 0 -OutputDirectory $out -Process (New-LoggedBlock $log -Body $body)
        @(Get-LoggedCall $log | Where-Object { $_ -eq 'q3' }).Count | Should -Be 2

        Resume-CheckpointRun $started.RunId -OutputDirectory $out | Out-Null
        # -MaxRetries 1 kept: two more attempts, not the default four.
        @(Get-LoggedCall $log | Where-Object { $_ -eq 'q3' }).Count | Should -Be 4

        Resume-CheckpointRun $started.RunId -OutputDirectory $out -MaxRetries 0 | Out-Null
        @(Get-LoggedCall $log | Where-Object { $_ -eq 'q3' }).Count | Should -Be 5
        $attempts = @(Read-JsonlRecord $started.Path | Where-Object sample_id -EQ 'q3').attempt
        $attempts | Should -Be @(1, 2, 3, 4, 5)
        (Get-Content $started.Path | Where-Object { $_ -notmatch '"sample_id":"q3"' }).Count | Should -Be 4
    }
}

Describe 'Resume-CheckpointRun: a sharded run' {
    It 'resumes every shard of the run, each with its own summary' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 10
        $log = Join-Path $dir 'calls.log'
        $s1 = Start-CheckpointRun $csv -Shard 1/2 -Limit 1 -OutputDirectory $out -Process (New-LoggedBlock $log)
        $s2 = Start-CheckpointRun $csv -Shard 2/2 -Limit 1 -OutputDirectory $out -Process (New-LoggedBlock $log)
        $summaries = @(Resume-CheckpointRun $s1.RunId -OutputDirectory $out)
        $summaries.Shard | Should -Be @('1/2', '2/2')
        $summaries.Status | Should -Be @('Completed', 'Completed')
        $summaries.ProcessedThisRun | Should -Be @(($s1.TotalSamples - 1), ($s2.TotalSamples - 1))
        (Get-LoggedCall $log | Sort-Object { [int]$_.Substring(1) }) | Should -Be @(1..10 | ForEach-Object { "q$_" })
        (Get-CheckpointStats -RunId $s1.RunId -OutputDirectory $out).Status | Should -Be 'Completed'
    }
}

Describe 'Resume-CheckpointRun: a state file it cannot trust' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $log = Join-Path $dir 'calls.log'
        $started = Start-CheckpointRun $csv -Limit 2 -Seed 5 -OutputDirectory $out -Process (New-LoggedBlock $log)
        Remove-Item $log
        $statePath = Join-Path $out "$($started.RunId)_resume_state.json"
    }

    It 'writes CannotResume when the state file is deleted, and changes nothing' {
        Remove-Item $statePath
        $before = Get-FileHashTable $out
        { Resume-CheckpointRun $started.RunId -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "CannotResume,$resumeId"
        Get-LoggedCall $log | Should -BeNullOrEmpty
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }

    It 'writes StateChangedOutside when the state file was edited by hand, and runs nothing' {
        $text = Get-Content $statePath -Raw
        $text | Should -Match '"seed": 5,'
        Write-TextFile $statePath ($text.Replace('"seed": 5,', '"seed": 6,')) | Out-Null
        $jsonlBefore = Get-Content $started.Path -Raw
        { Resume-CheckpointRun $started.RunId -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "StateChangedOutside,$resumeId"
        Get-LoggedCall $log | Should -BeNullOrEmpty
        Get-Content $started.Path -Raw | Should -BeExactly $jsonlBefore
    }

    It 'writes CannotResume for a kept setting outside its parameter''s range (<Case>), and runs nothing' -TestCases @(
        @{ Case = 'a negative retry delay'; Setting = 'retry_delay_seconds'; Value = '-5'; Message = '*retry_delay_seconds = -5, outside the range of -RetryDelaySeconds (0 to 3600)*' }
        @{ Case = 'a ThrottleLimit of 0'; Setting = 'throttle_limit'; Value = '0'; Message = '*throttle_limit = 0, outside the range of -ThrottleLimit (1 to 1024)*' }
        @{ Case = 'a retry count that is no number'; Setting = 'max_retries'; Value = '"many"'; Message = '*max_retries = many, which -MaxRetries does not take*' }
    ) {
        $text = Get-Content $statePath -Raw
        $pattern = '"' + $Setting + '": [0-9.]+'
        $text | Should -Match $pattern
        Write-TextFile $statePath ($text -replace $pattern, ('"' + $Setting + '": ' + $Value)) | Out-Null
        $jsonlBefore = Get-Content $started.Path -Raw
        { Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process (New-LoggedBlock $log) -ErrorAction Stop -WarningAction SilentlyContinue } |
            Should -Throw -ErrorId "CannotResume,$resumeId" -ExpectedMessage $Message
        Get-LoggedCall $log | Should -BeNullOrEmpty
        Get-Content $started.Path -Raw | Should -BeExactly $jsonlBefore
    }

    It 'resumes a state file whose kept setting is out of range when that parameter is given' {
        $text = Get-Content $statePath -Raw
        Write-TextFile $statePath ($text -replace '"retry_delay_seconds": [0-9.]+', '"retry_delay_seconds": -5') | Out-Null
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process (New-LoggedBlock $log) -RetryDelaySeconds 0 -WarningAction SilentlyContinue
        Get-LoggedCall $log | Should -Be @('q3', 'q4')
        $summary.Status | Should -Be 'Completed'
    }

    It 'resumes a hand-edited state file when -Process is given anew' {
        $text = Get-Content $statePath -Raw
        Write-TextFile $statePath ($text.Replace('"seed": 5,', '"seed": 6,')) | Out-Null
        $summary = Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process (New-LoggedBlock $log) -WarningAction SilentlyContinue
        Get-LoggedCall $log | Should -Be @('q3', 'q4')
        $summary.Status | Should -Be 'Completed'
        $summary.RunId | Should -Be $started.RunId
    }
}

Describe 'Resume-CheckpointRun of a run with a budget' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
    }

    It 'keeps the -MaxCost the run was started with, and goes on with a higher one' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 6
        $start = Start-CheckpointRun $csv -MaxCost 2 -OutputDirectory $out -WarningAction SilentlyContinue -Process { $CheckpointContext.AddCost(1); $_.id }
        $start.Status | Should -Be 'BudgetReached'
        $start.CompletedSamples | Should -Be 2

        $kept = Resume-CheckpointRun $start.RunId -OutputDirectory $out -WarningAction SilentlyContinue -ErrorAction Stop
        $kept.Status | Should -Be 'BudgetReached'
        $kept.ProcessedThisRun | Should -Be 0
        $more = Resume-CheckpointRun -Latest -OutputDirectory $out -MaxCost 100 -ErrorAction Stop
        $more.Status | Should -Be 'Completed'
        $more.CompletedSamples | Should -Be 6
        $more.TotalCost | Should -Be 6
    }

    It 'counts the cost of the shards an unsharded run finishes toward -MaxCost, and their samples in its summary' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 12
        foreach ($k in 1, 2) { $null = Start-CheckpointRun $csv -Shard "$k/2" -Limit 2 -OutputDirectory $out -Process { $CheckpointContext.AddCost(1); $_.id } }

        $finish = Start-CheckpointRun $csv -MaxCost 6 -OutputDirectory $out -WarningAction SilentlyContinue -Process { $CheckpointContext.AddCost(1); $_.id }

        $finish.Status | Should -Be 'BudgetReached'
        $finish.ProcessedThisRun | Should -Be 2
        $finish.TotalCost | Should -Be 6
        $finish.CompletedSamples, $finish.PendingSamples | Should -Be @(6, 6)
        $finish.AverageCostPerSample | Should -Be 1
        $stats = Get-CheckpointStats -RunId $finish.RunId -OutputDirectory $out
        $stats.CompletedSamples, $stats.TotalCost | Should -Be @(6, 6)
    }
}

Describe 'Resume-CheckpointRun of a sharded run with shards that never started' {
    It 'warns which shards have no files, and the scheduled script keeps failing until the run is complete' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 20
        foreach ($k in 1, 2) { $null = Start-CheckpointRun $csv -Shard "$k/4" -Limit 1 -OutputDirectory $out -Process { $_.id } }

        $resumed = @(Resume-CheckpointRun -Latest -OutputDirectory $out -WarningVariable warnings -WarningAction SilentlyContinue)
        $resumed.Status | Should -Be @('Completed', 'Completed')
        @($warnings | Where-Object { "$_" -match 'no files for shard 3/4, 4/4' }).Count | Should -Be 1
        (Get-CheckpointStats -OutputDirectory $out).Status | Should -Be 'Incomplete'

        $script = Join-Path $PSScriptRoot '../../examples/scheduled/resume-study.ps1'
        $pwsh = Join-Path $PSHOME 'pwsh'
        $output = & $pwsh -NoProfile -NonInteractive -File $script -OutputDirectory $out -Module $env:CHECKPOINT_TEST_MODULE 2>&1 3>&1
        $LASTEXITCODE | Should -Be 1 -Because ($output -join "`n")
        ($output -join "`n") | Should -Match 'is Incomplete: [1-9][0-9]* pending'

        $null = Start-CheckpointRun $csv -OutputDirectory $out -Process { $_.id }
        $output = & $pwsh -NoProfile -NonInteractive -File $script -OutputDirectory $out -Module $env:CHECKPOINT_TEST_MODULE 2>&1 3>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
    }
}

Describe 'Resume-CheckpointRun -Latest in a folder with no output directory' {
    It 'writes RunNotFound, so that a scheduled resume started in the wrong folder fails' {
        $dir = New-TestDirectory $TestDrive
        { Resume-CheckpointRun -Latest -OutputDirectory (Join-Path $dir 'outputs') -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$resumeId" -ExpectedMessage '*no output directory*'
        Test-Path (Join-Path $dir 'outputs') | Should -BeFalse
    }
}
