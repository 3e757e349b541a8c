BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $statsId = 'Checkpoint.Commands.GetCheckpointStatsCommand'
}

Describe 'Get-CheckpointStats' {
    BeforeAll {
        # Two runs in one directory: 'alpha' completed (3 of 3), 'beta' with 2 completed, 1 failed after 3
        # attempts, 1 pending (4 samples); plus a file that is not a run.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $alphaCsv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $betaCsv = New-TestCsv (Join-Path $dir 'other.csv') -Count 4
        $alpha = Start-CheckpointRun $alphaCsv -Model alpha -OutputDirectory $out -Process { 'x' }
        $beta = Start-CheckpointRun $betaCsv -Model beta -Limit 3 -MaxRetries 2 -RetryDelaySeconds 0 -OutputDirectory $out -Process {
            if ($_.id -eq 'q2') { throw [System.TimeoutException]::new('nope') }
            'y'
        }
        Write-TextFile (Join-Path $out 'notes.txt') 'not a run' | Out-Null
    }

    It 'lists every run in the directory by default, one flat object each' {
        $stats = @(Get-CheckpointStats -OutputDirectory $out)
        $stats.Count | Should -Be 2
        $stats.RunId | Sort-Object | Should -Be (@($alpha.RunId, $beta.RunId) | Sort-Object)
        foreach ($row in $stats) {
            $row.GetType().FullName | Should -Be 'Checkpoint.RunStats'
            foreach ($property in $row.PSObject.Properties) {
                $value = $property.Value
                if ($null -ne $value) {
                    # Flat: a string, a number, a boolean, a date or an enum; never a collection or a nested object.
                    ($value -is [string] -or $value.GetType().IsPrimitive -or $value -is [decimal] -or $value -is [datetime] -or $value -is [enum]) |
                        Should -BeTrue -Because "$($property.Name) is $($value.GetType().FullName)"
                }
            }
        }
    }

    It 'has the counts, percentage and status of each run' {
        $a = Get-CheckpointStats -RunId $alpha.RunId -OutputDirectory $out
        $a.Model | Should -Be 'alpha'
        $a.Dataset | Should -Be $alphaCsv
        $a.ConfigHash | Should -Be $alpha.RunId.Substring($alpha.RunId.Length - 8)
        $a.TotalSamples, $a.CompletedSamples, $a.FailedSamples, $a.PendingSamples, $a.ErrorCount | Should -Be @(3, 3, 0, 0, 0)
        $a.PercentComplete | Should -Be 100
        $a.Status | Should -Be 'Completed'
        $a.OutputDirectory | Should -Be $out
        $a.Path | Should -Be $alpha.Path
        $a.StartedAt | Should -BeOfType [datetime]
        $a.LastCheckpoint | Should -BeGreaterOrEqual $a.StartedAt

        $b = Get-CheckpointStats -RunId $beta.RunId -OutputDirectory $out
        $b.TotalSamples, $b.CompletedSamples, $b.FailedSamples, $b.PendingSamples | Should -Be @(4, 2, 1, 1)
        $b.PercentComplete | Should -Be 50
        $b.Status | Should -Be 'Incomplete'
    }

    It 'counts every failed attempt in ErrorCount' {
        $b = Get-CheckpointStats -RunId $beta.RunId -OutputDirectory $out
        $b.ErrorCount | Should -Be 3
        @(Read-JsonlRecord $beta.Path | Where-Object status -EQ 'failed').Count | Should -Be 3
    }

    It 'rounds PercentComplete to two decimals' {
        $thirds = New-TestCsv (Join-Path $dir 'thirds.csv') -Count 3
        $run = Start-CheckpointRun $thirds -Limit 2 -OutputDirectory (Join-Path $dir 'thirds') -Process { 'x' }
        (Get-CheckpointStats -RunId $run.RunId -OutputDirectory (Join-Path $dir 'thirds')).PercentComplete | Should -Be 66.67
    }

    It 'matches -RunId with wildcards' {
        @(Get-CheckpointStats -RunId '*_alpha_*' -OutputDirectory $out).RunId | Should -Be @($alpha.RunId)
        @(Get-CheckpointStats -RunId '*_BETA_*' -OutputDirectory $out).RunId | Should -Be @($beta.RunId)
        @(Get-CheckpointStats -RunId '*' -OutputDirectory $out).Count | Should -Be 2
        @(Get-CheckpointStats -RunId '*_gamma_*' -OutputDirectory $out).Count | Should -Be 0
    }

    It 'keeps the value of every column through Export-Csv and Import-Csv' {
        $csvPath = Join-Path $dir 'stats.csv'
        Get-CheckpointStats -OutputDirectory $out | Export-Csv -Path $csvPath
        $original = @(Get-CheckpointStats -OutputDirectory $out)
        $imported = @(Import-Csv $csvPath)
        $imported.Count | Should -Be 2
        $names = $original[0].PSObject.Properties.Name
        @($imported[0].PSObject.Properties.Name) | Should -Be @($names)
        for ($i = 0; $i -lt $original.Count; $i++) {
            foreach ($name in $names) {
                $imported[$i].$name | Should -BeExactly ([string]$original[$i].$name) -Because "column $name of $($original[$i].RunId)"
            }
        }
        $imported.PercentComplete | Sort-Object | Should -Be @('100', '50')
    }

    It 'writes RunNotFound for a -RunId that names no run' {
        { Get-CheckpointStats -RunId 'nonexistent' -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$statsId"
    }

    It 'writes RunNotFound for a -RunId that is not a valid wildcard pattern' {
        { Get-CheckpointStats -RunId '[' -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$statsId" -ExpectedMessage "*not a valid run id or wildcard pattern*"
    }

    It 'writes NotACheckpointFile for a -Path that is not a checkpoint file' {
        { Get-CheckpointStats -Path (Join-Path $out 'notes.txt') -ErrorAction Stop } |
            Should -Throw -ErrorId "NotACheckpointFile,$statsId"
        $lookalike = Write-TextFile (Join-Path $dir 'results.jsonl') '{"sample_id":"q1"}'
        { Get-CheckpointStats -Path $lookalike -ErrorAction Stop } |
            Should -Throw -ErrorId "NotACheckpointFile,$statsId"
    }

    It 'reads a run by -Path' {
        $row = Get-CheckpointStats -Path $beta.Path
        $row.RunId | Should -Be $beta.RunId
        $row.CompletedSamples | Should -Be 2
    }

    It 'returns nothing, and writes no error, for a directory that does not exist' {
        $errors = $null
        $rows = @(Get-CheckpointStats -OutputDirectory (Join-Path $dir 'missing') -ErrorVariable errors)
        $rows.Count | Should -Be 0
        @($errors).Count | Should -Be 0
        Test-Path (Join-Path $dir 'missing') | Should -BeFalse
    }
}

Describe 'Get-CheckpointStats of a sharded run' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 12
    }

    It 'counts the whole dataset, and the run as not completed, when only one of two shards has run' {
        $s1 = Start-CheckpointRun $csv -Shard 1/2 -OutputDirectory $out -Process { 'x' }
        $s1.Status | Should -Be 'Completed'
        $s1.TotalSamples | Should -BeLessThan 12
        $row = Get-CheckpointStats -RunId $s1.RunId -OutputDirectory $out
        $row.Shards | Should -Be '1/2'
        $row.CompletedSamples | Should -Be $s1.TotalSamples
        $row.TotalSamples | Should -Be 12
        $row.PendingSamples | Should -Be (12 - $s1.TotalSamples)
        $row.Status | Should -Not -Be 'Completed'
        $row.PercentComplete | Should -BeLessThan 100
    }

    It 'sums the shards into one row, or gives one row a shard with -PerShard' {
        $s1 = Start-CheckpointRun $csv -Shard 1/2 -OutputDirectory $out -Process { 'x' }
        $s2 = Start-CheckpointRun $csv -Shard 2/2 -Limit 2 -OutputDirectory $out -Process { 'x' }
        $row = Get-CheckpointStats -OutputDirectory $out
        @($row).Count | Should -Be 1
        $row.Shards | Should -Be '1/2,2/2'
        $row.TotalSamples, $row.CompletedSamples, $row.PendingSamples | Should -Be @(12, ($s1.TotalSamples + 2), (12 - $s1.TotalSamples - 2))
        $row.Status | Should -Be 'Incomplete'
        $perShard = @(Get-CheckpointStats -OutputDirectory $out -PerShard)
        $perShard.Shards | Should -Be @('1/2', '2/2')
        $perShard.TotalSamples | Should -Be @($s1.TotalSamples, $s2.TotalSamples)
        $perShard.CompletedSamples | Should -Be @($s1.TotalSamples, 2)
        $perShard.Status | Should -Be @('Completed', 'Incomplete')
    }
}

Describe 'Get-CheckpointStats on a torn file' {
    It 'counts the whole records before a half-written last line and changes no byte' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 5
        $run = Start-CheckpointRun $csv -Limit 3 -OutputDirectory $out -Process { 'x' }
        # Half of a real record, with no newline: what a crash in the middle of a write leaves.
        $line = (Get-Content $run.Path -TotalCount 1).Replace('"q1"', '"q4"')
        [IO.File]::AppendAllText($run.Path, $line.Substring(0, [int]($line.Length / 2)))
        $before = Get-FileHashTable $out
        $files = @(Get-ChildItem $out -Force).Name

        $row = Get-CheckpointStats -RunId $run.RunId -OutputDirectory $out -WarningVariable warnings -WarningAction SilentlyContinue
        $row.CompletedSamples | Should -Be 3
        $row.FailedSamples | Should -Be 0
        $row.PendingSamples | Should -Be 2
        $row.TotalSamples | Should -Be 5
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Match 'damaged byte\(s\) after the last good record \(line 4, .*Left as it is'

        $after = Get-FileHashTable $out
        @(Get-ChildItem $out -Force).Name | Should -Be $files
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
        [IO.File]::ReadAllBytes($run.Path)[-1] | Should -Not -Be 10
    }
}

Describe 'Get-CheckpointStats when a state file is lost or damaged' {
    BeforeEach {
        # 2 of 4 samples done: the state file alone knows there are 4.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $run = Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process { 'x' }
        $statePath = Join-Path $out "$($run.RunId)_resume_state.json"
    }

    It 'gives the status Unknown and says why when the state file is <Case>' -TestCases @(
        @{ Case = 'missing'; Damage = { param($path) Remove-Item -LiteralPath $path } }
        @{ Case = 'damaged'; Damage = { param($path) [IO.File]::WriteAllText($path, '{ "format_version": 1, garbage') } }
    ) {
        param($Case, $Damage)
        & $Damage $statePath
        $before = Get-FileHashTable $out

        $row = Get-CheckpointStats -RunId $run.RunId -OutputDirectory $out -WarningVariable warnings -WarningAction SilentlyContinue

        $row.Status | Should -Be 'Unknown'
        $row.CompletedSamples | Should -Be 2
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Match ([regex]::Escape("the state file '$statePath' is $Case") + '.*status is Unknown.*only the 2 samples with a record')
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }

    It 'is not taken for completed by the clean-up pipeline, and Resume-CheckpointRun -Latest says it cannot resume it' {
        Remove-Item -LiteralPath $statePath
        $before = Get-FileHashTable $out

        Get-CheckpointStats -OutputDirectory $out -WarningAction SilentlyContinue | Where-Object Status -EQ Completed |
            Remove-Checkpoint -Confirm:$false
        { Resume-CheckpointRun -Latest -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId 'CannotResume,Checkpoint.Commands.ResumeCheckpointRunCommand'

        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }
}

Describe 'Readers on a file with a damaged line' {
    It 'Get-CheckpointStats and Get-CheckpointResult each warn with the line number, skip the line and change no byte' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $run = Start-CheckpointRun $csv -OutputDirectory $out -Process { [pscustomobject]@{ a = 10 } }
        # One character changed inside the second record: its checksum no longer matches.
        $lines = [IO.File]::ReadAllLines($run.Path)
        $lines[1] = $lines[1].Replace('"a":10', '"a":90')
        [IO.File]::WriteAllText($run.Path, ($lines -join "`n") + "`n")
        $before = Get-FileHashTable $out

        $row = Get-CheckpointStats -RunId $run.RunId -OutputDirectory $out -WarningVariable statsWarnings -WarningAction SilentlyContinue
        $results = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -WarningVariable resultWarnings -WarningAction SilentlyContinue)

        $row.CompletedSamples | Should -Be 3
        $results.SampleId | Should -Be @('q1', 'q3', 'q4')
        foreach ($warnings in $statsWarnings, $resultWarnings) {
            @($warnings).Count | Should -Be 1
            "$($warnings[0])" | Should -Match 'line 2 \(byte [0-9]+\) skipped'
        }
        $after = Get-FileHashTable $out
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }
}
