BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'The readers take the files Get-ChildItem gives them' {
    BeforeEach {
        # An unsharded run with 2 of 3 samples done, and a run in two shards; a file that is not a run.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $plain = Start-CheckpointRun $csv -Model plain -Limit 2 -OutputDirectory $out -Process { 'p' + $_.id }
        $shards = foreach ($k in 1, 2) { Start-CheckpointRun $csv -Model sharded -Shard "$k/2" -OutputDirectory $out -Process { 's' + $_.id } }
        Write-TextFile (Join-Path $out 'notes.jsonl') '{"not":"a run"}' | Out-Null
        $runFiles = Get-ChildItem $out -Filter *.jsonl | Where-Object Name -NE 'notes.jsonl'
    }

    It 'Get-CheckpointStats: one row per run, a sharded run once for its two files' {
        $stats = @($runFiles | Get-CheckpointStats)
        $stats.RunId | Sort-Object | Should -Be (@($plain.RunId, $shards[0].RunId) | Sort-Object)
        ($stats | Where-Object RunId -EQ $plain.RunId).CompletedSamples | Should -Be 2
        ($stats | Where-Object RunId -EQ $shards[0].RunId).Shards | Should -Be '1/2,2/2'
        ($stats | Where-Object RunId -EQ $shards[0].RunId).CompletedSamples | Should -Be 3
    }

    It 'binds PSPath as well as FullName' {
        $file = Get-Item $plain.Path
        ([pscustomobject]@{ PSPath = $file.PSPath } | Get-CheckpointStats).RunId | Should -Be $plain.RunId
        ([pscustomobject]@{ FullName = $file.FullName } | Get-CheckpointStats).RunId | Should -Be $plain.RunId
    }

    It 'writes NotACheckpointFile for a .jsonl file that is not a run, and goes on' {
        $stats = @(Get-ChildItem $out -Filter *.jsonl | Sort-Object Name | Get-CheckpointStats -ErrorVariable problems -ErrorAction SilentlyContinue)
        $stats.Count | Should -Be 2
        @($problems).Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'NotACheckpointFile,Checkpoint.Commands.GetCheckpointStatsCommand'
    }

    It 'Get-CheckpointResult: every run''s results once' {
        $results = @($runFiles | Get-CheckpointResult)
        $results.Count | Should -Be 5
        ($results | Where-Object RunId -EQ $plain.RunId).Output | Sort-Object | Should -Be @('pq1', 'pq2')
        ($results | Where-Object RunId -EQ $shards[0].RunId).Output | Sort-Object | Should -Be @('sq1', 'sq2', 'sq3')
    }

    It 'Remove-Checkpoint: every run removed, a sharded run once, the file that is not a run left alone' {
        $runFiles | Remove-Checkpoint -Force -ErrorAction Stop
        @(Get-CheckpointStats -OutputDirectory $out).Count | Should -Be 0
        (Get-ChildItem $out -File).Name | Should -Be @('notes.jsonl')
    }

    It 'the objects of the other cmdlets still bind by RunId and OutputDirectory, not by their Path' {
        # A run's stats name its first shard's file as Path; by run id the whole run is taken.
        $stats = Get-CheckpointStats -RunId $shards[0].RunId -OutputDirectory $out
        @($stats | Get-CheckpointResult).Count | Should -Be 3
        $stats | Remove-Checkpoint -Force
        @(Get-CheckpointStats -OutputDirectory $out).RunId | Should -Be @($plain.RunId)
    }
}

Describe 'Error ids' {
    It 'give every class of error a category PowerShell has' {
        foreach ($class in [enum]::GetNames([Checkpoint.ErrorClass])) {
            [System.Management.Automation.ErrorCategory]$class | Should -BeOfType ([System.Management.Automation.ErrorCategory])
        }
    }
}
