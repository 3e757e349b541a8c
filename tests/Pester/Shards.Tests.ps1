# Shards as array tasks on one machine: real processes, one file per shard, merged reads, re-sharding.
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:Pwsh = Join-Path $PSHOME 'pwsh'
    $script:Data = Join-Path $TestDrive 'study.csv'
    1..2000 | ForEach-Object { [pscustomobject]@{ id = "q$_"; answer = "#### $_" } } | Export-Csv $Data -NoTypeInformation

    # Starts a child pwsh running one shard; its block sleeps so that the shards overlap in time.
    function script:Start-Shard([string] $Shard, [string] $Out, [int] $SleepMs = 2) {
        $script = @"
Import-Module '$env:CHECKPOINT_TEST_MODULE'
`$summary = Start-CheckpointRun -Dataset '$Data' -Model sharded -OutputDirectory '$Out' -Shard $Shard -Process { Start-Sleep -Milliseconds $SleepMs; `$_.answer } -ErrorAction Stop
`$summary.Status
"@
        $file = Join-Path $TestDrive "shard-$([guid]::NewGuid().ToString('N')).ps1"
        Set-Content $file $script
        $log = "$file.log"
        $process = Start-Process -FilePath $Pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -RedirectStandardOutput $log -RedirectStandardError "$log.err" -PassThru
        [pscustomobject]@{ Process = $process; Log = $log }
    }

    function script:Get-CompletedRecords([string] $Out) {
        Get-ChildItem $Out -Filter '*.jsonl' | ForEach-Object { Get-Content $_.FullName } | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object status -EQ 'completed'
    }
}

Describe 'Four shards of one run, as four processes at once' {
    BeforeAll {
        $script:Out = Join-Path $TestDrive 'four'
        $script:Shards = 1..4 | ForEach-Object { Start-Shard "$_/4" $Out }
        # A second attempt at shard 2 while the first holds it (a scheduler's requeue): refused.
        $lock = $null
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not $lock -and [DateTime]::UtcNow -lt $deadline) {
            $lock = Get-ChildItem $Out -Filter '*_shard-2-of-4.lock.json' -ErrorAction SilentlyContinue
            Start-Sleep -Milliseconds 100
        }
        $script:DuplicateError = $null
        try {
            Start-CheckpointRun -Dataset $Data -Model sharded -OutputDirectory $Out -Shard 2/4 -Process { $_.answer } -ErrorAction Stop | Out-Null
        }
        catch {
            $script:DuplicateError = $_
        }

        foreach ($s in $Shards) {
            if (-not (Wait-ChildExit $s.Process 120)) { Stop-ChildProcess $s.Process }
        }
    }

    AfterAll {
        foreach ($s in $Shards) { Stop-ChildProcess $s.Process }
    }

    It 'refuses a duplicate of a running shard with RunLocked, naming the holder' {
        $DuplicateError | Should -Not -BeNullOrEmpty
        $DuplicateError.FullyQualifiedErrorId | Should -BeLike 'RunLocked,*'
        $DuplicateError.Exception.Message | Should -Match 'process \d+ on '
    }

    It 'ends every shard process Completed' {
        foreach ($s in $Shards) {
            $s.Process.ExitCode | Should -Be 0
            (Get-Content $s.Log -Raw) | Should -Match 'Completed'
        }
    }

    It 'writes one set of files per shard and none unsharded' {
        $names = (Get-ChildItem $Out -Filter '*.jsonl').Name
        $names | Should -HaveCount 4
        1..4 | ForEach-Object { $names -match "_shard-$_-of-4\.jsonl$" | Should -HaveCount 1 }
        (Get-ChildItem $Out -Filter '*_shard-*-of-4_resume_state.json') | Should -HaveCount 4
    }

    It 'has exactly one completed record per sample across the shard files' {
        $completed = @(Get-CompletedRecords $Out)
        $completed.Count | Should -Be 2000
        @($completed.sample_id | Sort-Object -Unique).Count | Should -Be 2000
    }

    It 'reports the whole run as 100% and lists its shards' {
        $stats = Get-CheckpointStats -OutputDirectory $Out
        $stats | Should -HaveCount 1
        $stats.Shards | Should -Be '1/4,2/4,3/4,4/4'
        $stats.CompletedSamples | Should -Be 2000
        $stats.TotalSamples | Should -Be 2000
        $stats.PercentComplete | Should -Be 100
        $stats.Status | Should -Be 'Completed'
        (Get-CheckpointStats -OutputDirectory $Out -PerShard) | Should -HaveCount 4
    }

    It 'merges the results: each sample once, with its answer' {
        $results = Get-CheckpointResult -RunId * -OutputDirectory $Out
        $results | Should -HaveCount 2000
        ($results | Where-Object SampleId -EQ 'q1234').Output | Should -Be '#### 1234'
    }
}

Describe 'Re-sharding' {
    It 'finishes a run begun as 4 shards with a 1/2 shard that processes only what is pending' {
        $out = Join-Path $TestDrive 'reshard'
        foreach ($k in 1, 3) {
            Start-CheckpointRun -Dataset $Data -Model sharded -OutputDirectory $out -Shard "$k/4" -Process { $_.answer } | Out-Null
        }
        $done = @(Get-CompletedRecords $out)
        $done.Count | Should -BeGreaterThan 800

        $calls = [System.Collections.Generic.List[string]]::new()
        $summary = Start-CheckpointRun -Dataset $Data -Model sharded -OutputDirectory $out -Shard 1/2 -Process { $calls.Add($_.id); $_.answer }
        $summary.Status | Should -Be 'Completed'
        # Nothing done by shards 1/4 and 3/4 is called again.
        $doneIds = [System.Collections.Generic.HashSet[string]]::new([string[]]$done.sample_id)
        @($calls | Where-Object { $doneIds.Contains($_) }).Count | Should -Be 0
        $summary.ProcessedThisRun | Should -Be $calls.Count

        # 2/2 finishes the rest; every sample is completed once.
        Start-CheckpointRun -Dataset $Data -Model sharded -OutputDirectory $out -Shard 2/2 -Process { $_.answer } | Out-Null
        $all = @(Get-CompletedRecords $out)
        $all.Count | Should -Be 2000
        @($all.sample_id | Sort-Object -Unique).Count | Should -Be 2000
        (Get-CheckpointStats -OutputDirectory $out).PercentComplete | Should -Be 100
    }
}

Describe 'A sample completed in one file of a run and failed later in another' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:SkewOut = Join-Path $TestDrive 'skewed'
        $script:SkewData = Join-Path $TestDrive 'skewed.csv'
        1..12 | ForEach-Object { [pscustomobject]@{ id = "s$_"; answer = "#### $_" } } | Export-Csv $SkewData -NoTypeInformation
        # Which samples shard 1/2 holds, from a run of it in a folder of its own.
        $inShard = [System.Collections.Generic.List[string]]::new()
        Start-CheckpointRun -Dataset $SkewData -Model skewed -OutputDirectory (Join-Path $TestDrive 'skewed-ids') -Shard 1/2 -Process { $inShard.Add($_.id) } | Out-Null
        $script:Victims = $inShard[0], $inShard[1]

        $script:Whole = Start-CheckpointRun -Dataset $SkewData -Model skewed -OutputDirectory $SkewOut -Process { $_.answer }
        $script:ShardRun = Start-CheckpointRun -Dataset $SkewData -Model skewed -OutputDirectory $SkewOut -Shard 1/2 -Process { throw 'not called: done in the unsharded file' }
        # Then shard 1/2's file gets what a node whose clock runs an hour ahead wrote: the first victim failed
        # for good there, the second was abandoned in an outage, both after they completed in the unsharded file.
        $ahead = [DateTime]::UtcNow.AddHours(1).ToString('o', [cultureinfo]::InvariantCulture)
        $lines = foreach ($v in @(@{ Id = $Victims[0]; Final = 'true' }, @{ Id = $Victims[1]; Final = 'false' })) {
            Set-RecordChecksum ('{"v":1,"sample_id":"' + $v.Id + '","status":"failed","final":' + $v.Final + ',"attempt":2,"started_at":"' + $ahead + '","completed_at":"' + $ahead + '","duration_ms":5,"shard":"1/2","error":{"type":"System.Net.Http.HttpRequestException","message":"503 (Service Unavailable)","transient":true,"http_status":503},"output":null}')
        }
        [System.IO.File]::AppendAllText($ShardRun.Path, ($lines -join "`n") + "`n")
        $script:Log = Join-Path $TestDrive 'skewed-calls.log'
    }

    It 'counts every sample completed and none failed or pending' {
        $ShardRun.ProcessedThisRun | Should -Be 0
        $stats = Get-CheckpointStats -RunId $Whole.RunId -OutputDirectory $SkewOut
        $stats.Shards | Should -Be '1/2'
        $stats.CompletedSamples | Should -Be 12
        $stats.FailedSamples | Should -Be 0
        $stats.PendingSamples | Should -Be 0
        $stats.ErrorCount | Should -Be 2 -Because 'the failed attempts still count as errors'
        $stats.Status | Should -Be 'Completed'
    }

    It 'returns the completed result of each victim' {
        $results = @(Get-CheckpointResult -RunId $Whole.RunId -OutputDirectory $SkewOut -SampleId $Victims)
        $results | Should -HaveCount 2
        foreach ($r in $results) {
            $r.Status | Should -Be 'Completed'
            $r.Output | Should -Be "#### $($r.SampleId.Substring(1))"
            $r.Shard | Should -Be ''
        }
    }

    It 'runs neither victim again on a resume or a start, and writes nothing' {
        $before = Get-FileHashTable $SkewOut
        $resumed = @(Resume-CheckpointRun -Path $Whole.Path -Process (New-LoggedBlock $Log) -WarningAction SilentlyContinue)
        $started = Start-CheckpointRun -Dataset $SkewData -Model skewed -OutputDirectory $SkewOut -Process (New-LoggedBlock $Log)
        $shard = Start-CheckpointRun -Dataset $SkewData -Model skewed -OutputDirectory $SkewOut -Shard 1/2 -Process (New-LoggedBlock $Log)
        Get-LoggedCall $Log | Should -BeNullOrEmpty
        $resumed | Should -HaveCount 2
        foreach ($summary in @($resumed) + $started + $shard) {
            $summary.ProcessedThisRun | Should -Be 0
            $summary.FailedSamples | Should -Be 0
            $summary.PendingSamples | Should -Be 0
            $summary.Status | Should -Be 'Completed'
        }
        $after = Get-FileHashTable $SkewOut
        foreach ($jsonl in $before.Keys | Where-Object { $_ -like '*.jsonl' }) { $after[$jsonl] | Should -Be $before[$jsonl] -Because $jsonl }
    }
}
