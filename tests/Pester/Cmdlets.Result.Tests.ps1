BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $resultId = 'Checkpoint.Commands.GetCheckpointResultCommand'
}

Describe 'Get-CheckpointResult' {
    BeforeAll {
        # q1..q5: q3 fails for good (a permanent error), the others complete with an object.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 5
        $run = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -Process {
            if ($_.id -eq 'q3') { throw [System.ArgumentException]::new('cannot parse q3') }
            [pscustomobject]@{ answer = [int]$_.answer; text = $_.question; parts = @($_.id, 'x') }
        }
    }

    It 'returns the latest record of every sample by default (-Status All)' {
        $all = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out)
        $all.Count | Should -Be 5
        $all.SampleId | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $all[0].GetType().FullName | Should -Be 'Checkpoint.SampleResult'
        $all.RunId | Sort-Object -Unique | Should -Be $run.RunId
        @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -Status All).SampleId | Should -Be $all.SampleId
    }

    It 'returns only completed samples with -Status Completed' {
        $completed = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -Status Completed)
        $completed.SampleId | Should -Be @('q1', 'q2', 'q4', 'q5')
        $completed.Status | Sort-Object -Unique | Should -Be 'Completed'
        $completed.Error | Where-Object { $_ } | Should -BeNullOrEmpty
    }

    It 'returns only failed samples with -Status Failed, with their error' {
        $failed = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -Status Failed)
        $failed.Count | Should -Be 1
        $failed[0].SampleId | Should -Be 'q3'
        $failed[0].Status | Should -Be 'Failed'
        $failed[0].Attempt | Should -Be 1
        $failed[0].Error | Should -Be 'System.ArgumentException: cannot parse q3'
        $null -eq $failed[0].Output | Should -BeTrue
    }

    It 'returns only the samples -SampleId names' {
        $some = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -SampleId q4, q2, nope)
        $some.SampleId | Sort-Object | Should -Be @('q2', 'q4')
        @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -SampleId q3 -Status Completed).Count | Should -Be 0
    }

    It 'rebuilds Output as objects whose properties can be read' {
        $r = Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -SampleId q2
        $r.Output.answer | Should -Be 20
        $r.Output.answer | Should -BeOfType [long]
        $r.Output.text | Should -Be 'What is 2 times ten?'
        $r.Output.parts | Should -Be @('q2', 'x')
        $r.OutputJson | Should -Be '{"answer":20,"text":"What is 2 times ten?","parts":["q2","x"]}'
        (Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -Status Completed | ForEach-Object { $_.Output.answer }) |
            Should -Be @(10, 20, 40, 50)
    }

    It 'returns the results of every run in the directory when -RunId is left out, each with its RunId' {
        $otherCsv = New-TestCsv (Join-Path $dir 'other.csv') -Count 3 -IdPrefix 'o'
        $other = Start-CheckpointRun $otherCsv -Model other -OutputDirectory $out -Process { 'done' }
        try {
            $every = @(Get-CheckpointResult -OutputDirectory $out)
            $every | Should -HaveCount 8
            ($every | Where-Object RunId -EQ $run.RunId).SampleId | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
            ($every | Where-Object RunId -EQ $other.RunId).SampleId | Should -Be @('o1', 'o2', 'o3')
            @(Get-CheckpointResult -OutputDirectory $out -Status Failed).SampleId | Should -Be @('q3')
        }
        finally {
            Remove-Checkpoint -RunId $other.RunId -OutputDirectory $out -Force -Confirm:$false
        }
    }

    It 'reads every run of the default output directory, ./outputs, as Get-CheckpointStats does' {
        $cwd = New-TestDirectory $TestDrive
        $a = New-TestCsv (Join-Path $cwd 'a.csv') -Count 2 -IdPrefix 'a'
        $b = New-TestCsv (Join-Path $cwd 'b.csv') -Count 3 -IdPrefix 'b'
        Push-Location $cwd
        try {
            $null = Start-CheckpointRun $a, $b -Process { $_.id }
            $every = @(Get-CheckpointResult)
            $every.SampleId | Sort-Object | Should -Be @('a1', 'a2', 'b1', 'b2', 'b3')
            $every.RunId | Sort-Object -Unique | Should -Be (@(Get-CheckpointStats).RunId | Sort-Object)
        }
        finally {
            Pop-Location
        }
    }

    It 'returns nothing and writes no error for a directory without runs' {
        $empty = New-TestDirectory $TestDrive
        @(Get-CheckpointResult -OutputDirectory $empty -ErrorVariable errors) | Should -HaveCount 0
        $errors | Should -HaveCount 0
    }

    It 'takes runs by property name from Get-CheckpointStats, and by -Path' {
        @(Get-CheckpointStats -OutputDirectory $out | Get-CheckpointResult).Count | Should -Be 5
        @(Get-CheckpointResult -Path $run.Path -Status Failed).SampleId | Should -Be @('q3')
    }

    It 'matches -RunId with wildcards' {
        @(Get-CheckpointResult -RunId '*_data_*' -OutputDirectory $out).Count | Should -Be 5
        @(Get-CheckpointResult -RunId '*_nothing_*' -OutputDirectory $out).Count | Should -Be 0
    }

    It 'writes RunNotFound for a -RunId that names no run' {
        { Get-CheckpointResult -RunId 'nonexistent' -OutputDirectory $out -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$resultId"
    }

    It 'writes NotACheckpointFile for a -Path that is not a checkpoint file' {
        { Get-CheckpointResult -Path $csv -ErrorAction Stop } | Should -Throw -ErrorId "NotACheckpointFile,$resultId"
    }
}

Describe 'Get-CheckpointResult after a retry' {
    It 'returns the latest record of a sample that failed, then completed' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $first = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -Process { if ($_.id -eq 'q2') { throw 'down' }; 'first' }
        $first.FailedSamples | Should -Be 1
        (Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out -SampleId q2).Status | Should -Be 'Failed'

        Start-CheckpointRun $csv -OutputDirectory $out -Process { [pscustomobject]@{ answer = "retried $($_.id)" } } | Out-Null
        @(Read-JsonlRecord $first.Path | Where-Object sample_id -EQ 'q2').Count | Should -Be 2
        $results = @(Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out -SampleId q2)
        $results.Count | Should -Be 1
        $results[0].Status | Should -Be 'Completed'
        $results[0].Attempt | Should -Be 2
        $results[0].Error | Should -BeNullOrEmpty
        $results[0].Output.answer | Should -Be 'retried q2'
        @(Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out -Status Failed).Count | Should -Be 0
        (Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out).Output | Select-Object -First 1 | Should -Be 'first'
    }

    It 'returns the latest record across the shards of a run' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 8
        $s1 = Start-CheckpointRun $csv -Shard 1/2 -OutputDirectory $out -Process { "one $($_.id)" }
        $s2 = Start-CheckpointRun $csv -Shard 2/2 -OutputDirectory $out -Process { "two $($_.id)" }
        $results = @(Get-CheckpointResult -RunId $s1.RunId -OutputDirectory $out)
        $results.Count | Should -Be 8
        ($results.SampleId | Sort-Object) | Should -Be @(1..8 | ForEach-Object { "q$_" })
        @($results | Where-Object Shard -EQ '1/2').Count | Should -Be $s1.TotalSamples
        @($results | Where-Object Shard -EQ '2/2').Count | Should -Be $s2.TotalSamples
        foreach ($r in $results) { $r.Output | Should -Be ("{0} {1}" -f ($r.Shard -eq '1/2' ? 'one' : 'two'), $r.SampleId) }
    }
}

Describe 'Outputs that PowerShell itself has looked at' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    }

    It 'stores an object as the block returned it after Out-String and string expansion read it, at ThrottleLimit <Throttle>' -TestCases @(@{ Throttle = 1 }, @{ Throttle = 2 }) {
        param($Throttle)
        # Each of these (and Write-Host) makes PowerShell cache its own `pstypenames` member on the object.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 6
        $all = @(Start-CheckpointRun $csv -ThrottleLimit $Throttle -PassThru -OutputDirectory $out -Process {
                $o = [pscustomobject]@{ id = $_.id; n = [int]$_.answer }
                $null = $o | Out-String
                $null = "$o"
                $o
            })

        $run = $all | Where-Object { $_ -is [Checkpoint.RunSummary] }
        $passed = @($all | Where-Object { $_ -is [Checkpoint.SampleResult] })
        $passed.Count | Should -Be 6
        foreach ($r in $passed) { $r.Output.n | Should -Be ([int]$r.SampleId.Substring(1) * 10) }
        $text = [System.IO.File]::ReadAllText($run.Path)
        $text | Should -Not -Match 'pstypenames'
        foreach ($i in 1..6) { $text | Should -Match ([regex]::Escape('"output":{"id":"q' + $i + '","n":' + ($i * 10) + '},')) }
        $read = @(Get-CheckpointResult -Path $run.Path)
        $read.Count | Should -Be 6
        ($read | Sort-Object SampleId).OutputJson | Should -Be @(1..6 | ForEach-Object { '{"id":"q' + $_ + '","n":' + ($_ * 10) + '}' })
    }

    It 'reads a stored object with a name PowerShell reserves, an empty name or one name twice, and leaves the file as it was' {
        # Earlier versions stored `pstypenames`; an object of another tool may hold the rest.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $run = Start-CheckpointRun $csv -OutputDirectory $out -Process { [pscustomobject]@{ a = 1 } }
        $lines = [System.IO.File]::ReadAllLines($run.Path)
        $lines[0] = Set-RecordChecksum ($lines[0].Replace('"output":{"a":1}', '"output":{"a":1,"pstypenames":["X"],"PSObject":0,"":2,"b":3,"B":4}'))
        [System.IO.File]::WriteAllText($run.Path, ($lines -join "`n") + "`n")
        $before = (Get-FileHash $run.Path).Hash

        $results = @(Get-CheckpointResult -Path $run.Path -ErrorAction Stop)

        $results.Count | Should -Be 2
        $first = $results | Where-Object SampleId -EQ 'q1'
        $first.Output.PSObject.Properties.Name | Should -Be @('a', 'b')
        $first.Output.a | Should -Be 1
        $first.Output.b | Should -Be 4
        ($results | Where-Object SampleId -EQ 'q2').Output.a | Should -Be 1
        (Get-FileHash $run.Path).Hash | Should -Be $before
    }
}

Describe 'Get-CheckpointResult of a sample left pending by a failed attempt' {
    It 'gives it the Status Pending, as the stats count it: returned by -Status Pending, not by -Status Failed' {
        Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $run = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -WarningAction SilentlyContinue -Process { throw 'refused' }
        # What a stop or an outage writes: the attempt failed, but it was not the sample's last.
        $lines = [System.IO.File]::ReadAllLines($run.Path)
        $lines[0] | Should -Match '"sample_id":"q1","status":"failed","final":true'
        $lines[0] = Set-RecordChecksum ($lines[0].Replace('"final":true', '"final":false'))
        [System.IO.File]::WriteAllText($run.Path, ($lines -join "`n") + "`n")

        $all = @(Get-CheckpointResult -Path $run.Path)
        $failed = @(Get-CheckpointResult -Path $run.Path -Status Failed)
        $stats = Get-CheckpointStats -Path $run.Path

        ($all | Where-Object SampleId -EQ 'q1').Status | Should -Be 'Pending'
        ($all | Where-Object SampleId -EQ 'q2').Status | Should -Be 'Failed'
        $failed.SampleId | Should -Be @('q2')
        @(Get-CheckpointResult -Path $run.Path -Status Pending).SampleId | Should -Be @('q1')
        $stats.FailedSamples, $stats.PendingSamples | Should -Be @(1, 1)
    }
}
