BeforeDiscovery {
    # The shared GSM8K files sit beside the project, not in it: a user's clone has no ../shared.
    $sharedData = Join-Path $PSScriptRoot '../../../shared/data'
    $noSharedData = -not (Test-Path $sharedData)
}

BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $sharedData = Join-Path $PSScriptRoot '../../../shared/data'
    $today = Get-TodayStamp
}

Describe 'Start-CheckpointRun: the -Dataset parameter' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
    }

    It 'takes -Dataset and -Process by position' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $summary = Start-CheckpointRun $csv { $_.answer } -OutputDirectory $out
        $summary.Dataset | Should -Be $csv
        $summary.TotalSamples | Should -Be 3
        $summary.CompletedSamples | Should -Be 3
        @(Read-JsonlRecord $summary.Path).output | Should -Be @('10', '20', '30')
    }

    It 'takes dataset paths from the pipeline by value (strings)' {
        $a = New-TestCsv (Join-Path $dir 'data/a.csv') -Count 2
        $b = New-TestCsv (Join-Path $dir 'data/b.csv') -Count 3
        $summaries = @($a, $b | Start-CheckpointRun -Process { $_.id } -OutputDirectory $out)
        $summaries.Count | Should -Be 2
        $summaries.Dataset | Should -Be @($a, $b)
        $summaries.TotalSamples | Should -Be @(2, 3)
        ($summaries.RunId -replace '_[0-9a-f]{8}$', '') | Should -Be @("${today}_a_default", "${today}_b_default")
    }

    It 'takes FileInfo objects from Get-ChildItem by property name' {
        $a = New-TestCsv (Join-Path $dir 'data/a.csv') -Count 2
        $b = New-TestCsv (Join-Path $dir 'data/b.csv') -Count 4
        Write-TextFile (Join-Path $dir 'data/ignored.txt') 'not a dataset' | Out-Null
        $summaries = @(Get-ChildItem (Join-Path $dir 'data/*.csv') | Start-CheckpointRun -Process { $_.id } -OutputDirectory $out)
        $summaries.Count | Should -Be 2
        $summaries.Dataset | Sort-Object | Should -Be @($a, $b)
        ($summaries | Measure-Object TotalSamples -Sum).Sum | Should -Be 6
    }

    It 'takes a [pscustomobject] with a <Property> property by property name' -TestCases @(
        @{ Property = 'Path' }
        @{ Property = 'FullName' }
    ) {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $summary = [pscustomobject]@{ $Property = $csv; Other = 'x' } | Start-CheckpointRun -Process { $_.id } -OutputDirectory $out
        @($summary).Count | Should -Be 1
        $summary.Dataset | Should -Be $csv
        $summary.CompletedSamples | Should -Be 3
    }

    It 'expands wildcards in -Dataset' {
        $a = New-TestCsv (Join-Path $dir 'data/a.csv') -Count 2
        $b = New-TestCsv (Join-Path $dir 'data/b.csv') -Count 3
        New-TestJsonl (Join-Path $dir 'data/c.jsonl') -Count 1 | Out-Null
        $summaries = @(Start-CheckpointRun (Join-Path $dir 'data/*.csv') -Process { 'x' } -OutputDirectory $out)
        $summaries.Dataset | Sort-Object | Should -Be @($a, $b)
        $summaries.CompletedSamples | Sort-Object | Should -Be @(2, 3)
    }

    It 'reads a JSONL dataset, with numbers, arrays and objects as PowerShell values' {
        $jsonl = Write-TextFile (Join-Path $dir 'data.jsonl') (@(
                '{"id":"j1","n":5,"ratio":0.5,"flag":true,"tags":["x","y"],"meta":{"k":"v"}}'
                '{"id":"j2","n":7,"ratio":1.5,"flag":false,"tags":[],"meta":{"k":"w"}}'
            ) -join "`n")
        $seen = [System.Collections.Generic.List[object]]::new()
        $summary = Start-CheckpointRun $jsonl -Process { $seen.Add($_); $_.n * 2 } -OutputDirectory $out
        $summary.CompletedSamples | Should -Be 2
        $seen.Count | Should -Be 2
        $seen[0].n | Should -BeOfType [long]
        $seen[0].n | Should -Be 5
        $seen[0].ratio | Should -Be 0.5
        $seen[0].flag | Should -BeTrue
        $seen[1].flag | Should -BeFalse
        @($seen[0].tags) | Should -Be @('x', 'y')
        $seen[0].meta.k | Should -Be 'v'
        (Read-JsonlRecord $summary.Path).output | Should -Be @(10, 14)
    }

    It 'reads a CSV with a BOM, CRLF line ends, quoted newlines and doubled quotes' {
        $path = Join-Path $dir 'windows.csv'
        $text = "id,question,answer`r`nq1,`"two`r`nlines`",`"say `"`"hi`"`"`"`r`nq2,plain,`"a,b`"`r`n"
        [IO.File]::WriteAllBytes($path, [byte[]](0xEF, 0xBB, 0xBF) + [Text.Encoding]::UTF8.GetBytes($text))
        $seen = [System.Collections.Generic.List[object]]::new()
        $summary = Start-CheckpointRun $path -Process { $seen.Add($_); $_.answer } -OutputDirectory $out
        $summary.TotalSamples | Should -Be 2
        $seen.id | Should -Be @('q1', 'q2')
        $seen[0].PSObject.Properties.Name | Should -Be @('id', 'question', 'answer')
        $seen[0].question | Should -BeExactly "two`r`nlines"
        $seen[0].answer | Should -BeExactly 'say "hi"'
        $seen[1].answer | Should -BeExactly 'a,b'
        (Read-JsonlRecord $summary.Path).output | Should -Be @('say "hi"', 'a,b')
    }

    It 'gives the block the sample as $_ and as $args[0], with every column' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $seen = [System.Collections.Generic.List[string]]::new()
        Start-CheckpointRun $csv -Process {
            $seen.Add(('{0}|{1}|{2}|{3}|{4}' -f $_.id, $args[0].id, $_.question, $args[0].answer, ($_.PSObject.Properties.Name -join ',')))
        } -OutputDirectory $out | Out-Null
        $seen | Should -Be @(
            'q1|q1|What is 1 times ten?|10|id,question,answer'
            'q2|q2|What is 2 times ten?|20|id,question,answer'
            'q3|q3|What is 3 times ten?|30|id,question,answer'
        )
    }

    It 'gives the block $_ as a PSCustomObject it can add properties to, at ThrottleLimit <Throttle>' -TestCases @(
        @{ Throttle = 1 }, @{ Throttle = 2 }
    ) {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $summary = Start-CheckpointRun $csv -ThrottleLimit $Throttle -OutputDirectory $out -Process {
            if ($_ -isnot [pscustomobject]) { throw "`$_ is a $($_.GetType().FullName)" }
            $_ | Add-Member -NotePropertyName doubled -NotePropertyValue (2 * [int]$_.answer)
            $_.PSObject.Properties.Add([psnoteproperty]::new('tag', "t$($_.id)"))
            $_
        }
        $summary.CompletedSamples | Should -Be 3
        $outputs = @(Get-Content $summary.Path | ForEach-Object { ($_ | ConvertFrom-Json).output } | Sort-Object id)
        ($outputs | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.id, $_.answer, $_.doubled, $_.tag }) |
            Should -Be @('q1|10|20|tq1', 'q2|20|40|tq2', 'q3|30|60|tq3')
        $outputs[0].PSObject.Properties.Name | Should -Be @('id', 'question', 'answer', 'doubled', 'tag')
    }
}

Describe 'Start-CheckpointRun: how the block runs on the caller''s thread' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
    }

    It 'gives a plain block one scope per sample, with the sample as its only argument and ErrorActionPreference Stop' {
        $callerValue = 'caller'
        $seen = [System.Collections.Generic.List[string]]::new()
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -Process {
            $seen.Add(('{0}|{1}|{2}|{3}|{4}|{5}' -f $args.Count, $args[0].id, $ErrorActionPreference, $CheckpointContext.SampleId, $callerValue, [bool]$leftBehind))
            $leftBehind = $_.id
            & { $CheckpointContext.SampleId }
        }
        $seen | Should -Be @('1|q1|Stop|q1|caller|False', '1|q2|Stop|q2|caller|False', '1|q3|Stop|q3|caller|False')
        (Read-JsonlRecord $summary.Path).output | Should -Be @('q1', 'q2', 'q3')
        Get-Variable leftBehind -Scope 0 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'fails the attempt on a non-terminating error and logs the line of the caller''s file' {
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -MaxRetries 0 -Process {
            if ($_.id -eq 'q2') { Write-Error 'no q2 here' }
            $_.id
        }
        $summary.FailedSamples | Should -Be 1
        $log = Get-Content (Join-Path $out "$($summary.RunId)_errors.log") -Raw
        $log | Should -Match 'no q2 here'
        $log | Should -Match ([regex]::Escape("$PSCommandPath`: line"))
    }

    It 'logs the line of the caller''s file for a block that uses $using:, at ThrottleLimit <_> (rewritten; above 1, in worker runspaces)' -ForEach 1, 2 {
        $marker = 'm'
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -MaxRetries 0 -ThrottleLimit $_ -Process {
            $null = $using:marker
            if ($_.id -eq 'q2') { Write-Error 'no q2 with using' }
            $_.id
        }
        $summary.FailedSamples | Should -Be 1
        $line = (Select-String -LiteralPath $PSCommandPath -SimpleMatch "{ Write-Error 'no q2 with using' }" | Select-Object -First 1).LineNumber
        $log = Get-Content (Join-Path $out "$($summary.RunId)_errors.log") -Raw
        $log | Should -Match 'no q2 with using'
        $log | Should -Match ([regex]::Escape("$PSCommandPath`: line $line"))
    }

    It 'says in the errors log whether a transient failure is tried again or its retries are used up' {
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -MaxRetries 1 -RetryDelaySeconds 0 -Process {
            if ($_.id -eq 'q2') { throw [System.TimeoutException]::new('slow q2') }
            if ($_.id -eq 'q3') { throw [System.ArgumentException]::new('bad q3') }
            $_.id
        }
        $summary.FailedSamples | Should -Be 2
        $blocks = @((Get-Content (Join-Path $out "$($summary.RunId)_errors.log") -Raw) -split '(?m)^(?==== )' | Where-Object { $_ })
        $blocks.Count | Should -Be 3
        $blocks[0] | Should -Match '(?s)sample q2  attempt 1 .*slow q2.*transient: yes \(the sample is tried again\)'
        $blocks[1] | Should -Match '(?s)sample q2  attempt 2 .*slow q2.*transient: yes, but its retries are used up \(a resume tries the sample again\)'
        $blocks[2] | Should -Match '(?s)sample q3  attempt 1 .*bad q3.*transient: no\n'
    }

    It 'binds a block''s own param block to the sample, and still gives it $CheckpointContext' {
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -Process {
            param($row)
            '{0}:{1}:{2}' -f $row.id, $CheckpointContext.SampleId, $ErrorActionPreference
        }
        (Read-JsonlRecord $summary.Path).output | Should -Be @('q1:q1:Stop', 'q2:q2:Stop', 'q3:q3:Stop')
    }

    It 'runs a block made inside a module in that module''s scope, also when called from outside it' {
        $module = New-Module -Name CheckpointBlockTest -ScriptBlock {
            function Get-Secret { 'hidden' }
            function Get-Block { { "$(Get-Secret):$($_.id)" } }
            function Invoke-Inside([string] $Dataset, [string] $Out) { Start-CheckpointRun $Dataset -OutputDirectory $Out -Process { "$(Get-Secret):$($_.id)" } }
            Export-ModuleMember -Function Get-Block, Invoke-Inside
        } | Import-Module -PassThru
        try {
            $outside = Start-CheckpointRun $csv -OutputDirectory (Join-Path $dir 'outside') -Process (Get-Block)
            (Read-JsonlRecord $outside.Path).output | Should -Be @('hidden:q1', 'hidden:q2', 'hidden:q3')
            $inside = Invoke-Inside $csv (Join-Path $dir 'inside')
            (Read-JsonlRecord $inside.Path).output | Should -Be @('hidden:q1', 'hidden:q2', 'hidden:q3')
        }
        finally {
            Remove-Module $module
        }
    }
}

Describe 'Start-CheckpointRun: $CheckpointContext' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
    }

    It 'has RunId, SampleId, Attempt, Model, Config, Seed, Random and Shard' {
        $seen = [System.Collections.Generic.List[object]]::new()
        $summary = Start-CheckpointRun $csv -Model 'm1' -Config @{ temperature = 0.5; nested = @{ depth = 2 } } -Seed 42 -OutputDirectory $out -Process {
            $seen.Add([pscustomobject]@{
                    RunId = $CheckpointContext.RunId; SampleId = $CheckpointContext.SampleId; Attempt = $CheckpointContext.Attempt
                    Model = $CheckpointContext.Model; Temperature = $CheckpointContext.Config.temperature; Depth = $CheckpointContext.Config.nested.depth
                    Seed = $CheckpointContext.Seed; Random = $CheckpointContext.Random; Shard = $CheckpointContext.Shard
                })
        }
        $seen.Count | Should -Be 3
        $seen.SampleId | Should -Be @('q1', 'q2', 'q3')
        foreach ($context in $seen) {
            $context.RunId | Should -Be $summary.RunId
            $context.Attempt | Should -Be 1
            $context.Model | Should -Be 'm1'
            $context.Temperature | Should -Be 0.5
            $context.Depth | Should -Be 2
            $context.Seed | Should -Be 42
            $context.Random | Should -BeOfType [System.Random]
            $context.Shard | Should -BeNullOrEmpty
        }
    }

    It 'has the shard as k/n under -Shard' {
        $shards = [System.Collections.Generic.List[object]]::new()
        Start-CheckpointRun $csv -Shard '1/1' -OutputDirectory $out -Process { $shards.Add($CheckpointContext.Shard) } | Out-Null
        $shards | Should -Be @('1/1', '1/1', '1/1')
    }

    It 'counts attempts: a sample that fails once (transiently) is seen with Attempt 1, then 2' {
        $attempts = [System.Collections.Generic.List[string]]::new()
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -RetryDelaySeconds 0 -Process {
            $attempts.Add("$($_.id):$($CheckpointContext.Attempt)")
            if ($_.id -eq 'q2' -and $CheckpointContext.Attempt -eq 1) { throw [System.IO.IOException]::new('first attempt fails') }
            'ok'
        }
        $attempts | Should -Be @('q1:1', 'q2:1', 'q2:2', 'q3:1')
        $summary.CompletedSamples | Should -Be 3
        $records = Read-JsonlRecord $summary.Path
        # Each sample's records in the order they are in the file; records of different samples may be written
        # in either order (a fast sample's last record goes through the background queue).
        ($records | Sort-Object sample_id -Stable | ForEach-Object { "$($_.sample_id):$($_.status):$($_.attempt)" }) |
            Should -Be @('q1:completed:1', 'q2:failed:1', 'q2:completed:2', 'q3:completed:1')
    }

    It 'gives each sample the same random numbers on every run of the same seed' {
        $first = @{}
        $second = @{}
        Start-CheckpointRun $csv -Seed 7 -OutputDirectory $out -Process { $first[$_.id] = $CheckpointContext.Random.Next() } | Out-Null
        Start-CheckpointRun $csv -Seed 7 -OutputDirectory $out -NoResume -Process { $second[$_.id] = $CheckpointContext.Random.Next() } | Out-Null
        $first.Count | Should -Be 3
        foreach ($id in 'q1', 'q2', 'q3') { $second[$id] | Should -Be $first[$id] }
        @($first.Values | Sort-Object -Unique).Count | Should -Be 3
    }
}

Describe 'Start-CheckpointRun: what is stored' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
    }

    It 'stores one object as itself, several as an array, and none as null' {
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -Process {
            switch ($_.id) {
                'q1' { 'single' }
                'q2' { 1; 2; 3 }
                'q3' { }
            }
        }
        $summary.CompletedSamples | Should -Be 3

        $lines = @(Get-Content $summary.Path)
        $lines.Count | Should -Be 3
        $lines[0] | Should -Match '"output":"single",'
        $lines[1] | Should -Match '"output":\[1,2,3\],'
        $lines[2] | Should -Match '"output":null,'

        $results = @(Get-CheckpointResult -RunId $summary.RunId -OutputDirectory $out)
        $results.Count | Should -Be 3
        $results[0].Output | Should -BeExactly 'single'
        $results[1].Output.GetType().IsArray | Should -BeTrue
        $results[1].Output | Should -Be @(1, 2, 3)
        $results[2].Status | Should -Be 'Completed'
        $null -eq $results[2].Output | Should -BeTrue
    }

    It 'keeps output nested six levels deep, on disk and rebuilt' {
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -Process {
            [pscustomobject]@{ l1 = @{ l2 = [pscustomobject]@{ l3 = @{ l4 = @{ l5 = @{ l6 = "deep $($_.id)"; list = @(1, @{ x = 'y' }) } } } } } }
        }
        $raw = (Get-Content $summary.Path -TotalCount 1) | ConvertFrom-Json -Depth 100
        $raw.output.l1.l2.l3.l4.l5.l6 | Should -Be 'deep q1'
        $raw.output.l1.l2.l3.l4.l5.list[1].x | Should -Be 'y'

        $result = Get-CheckpointResult -RunId $summary.RunId -OutputDirectory $out -SampleId q2
        $result.Output.l1.l2.l3.l4.l5.l6 | Should -Be 'deep q2'
        $result.Output.l1.l2.l3.l4.l5.list[0] | Should -Be 1
        $result.Output.l1.l2.l3.l4.l5.list[1].x | Should -Be 'y'
    }
}

Describe 'Start-CheckpointRun: run identity' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
    }

    It 'runs -Model a,b on two datasets as 4 runs with 4 distinct ids of the shape yyyyMMdd_dataset_model_hash8' {
        $jsonl = New-TestJsonl (Join-Path $dir 'other.jsonl') -Count 2
        $summaries = @(Start-CheckpointRun $csv, $jsonl -Model a, b -OutputDirectory $out -Process { $CheckpointContext.Model })
        $summaries.Count | Should -Be 4
        @($summaries.RunId | Sort-Object -Unique).Count | Should -Be 4
        foreach ($s in $summaries) {
            $dataset = [IO.Path]::GetFileNameWithoutExtension($s.Dataset)
            $s.RunId | Should -Match ('^' + $today + '_' + $dataset + '_' + $s.Model + '_[0-9a-f]{8}$')
            Test-Path (Join-Path $out "$($s.RunId).jsonl") | Should -BeTrue
            (Read-JsonlRecord $s.Path).output | Sort-Object -Unique | Should -Be $s.Model
        }
        ($summaries | ForEach-Object { "$([IO.Path]::GetFileName($_.Dataset))/$($_.Model)" } | Sort-Object) |
            Should -Be @('data.csv/a', 'data.csv/b', 'other.jsonl/a', 'other.jsonl/b')
    }

    It 'changes the hash with -Config, not with a secret in -Config, and writes the secret to no file' {
        $seenKeys = [System.Collections.Generic.List[string]]::new()
        $cold = Start-CheckpointRun $csv -Config @{ temperature = 0.1 } -OutputDirectory $out -Process { 'x' }
        $warm = Start-CheckpointRun $csv -Config @{ temperature = 0.7 } -OutputDirectory $out -Process { 'x' }
        $secret = Start-CheckpointRun $csv -Config @{ temperature = 0.1; api_key = 'sk-secret' } -OutputDirectory $out -Process { $seenKeys.Add($CheckpointContext.Config.api_key); 'x' } -NoResume
        $warm.RunId | Should -Not -Be $cold.RunId
        $secret.RunId | Should -Be $cold.RunId
        # The block does get the secret in memory.
        $seenKeys | Should -Be @('sk-secret', 'sk-secret', 'sk-secret')
        $files = @(Get-ChildItem $out -File -Recurse -Force)
        $files.Count | Should -BeGreaterThan 3
        foreach ($file in $files) {
            [IO.File]::ReadAllText($file.FullName) | Should -Not -Match 'sk-secret' -Because $file.Name
        }
    }

    It 'keeps a secret of -Config out of every file when a failing block puts it in its error message' {
        $summary = Start-CheckpointRun $csv -Config @{ api_key = 'sk-secret'; temperature = 1 } -MaxRetries 0 -OutputDirectory $out -Process {
            if ($_.id -eq 'q2') { throw "request refused for key $($CheckpointContext.Config.api_key)" }
            'x'
        }
        $summary.FailedSamples | Should -Be 1
        $errorLog = Join-Path $out "$($summary.RunId)_errors.log"
        Get-Content $errorLog -Raw | Should -Match 'request refused for key'
        foreach ($file in Get-ChildItem $out -File -Force) {
            [IO.File]::ReadAllText($file.FullName) | Should -Not -Match 'sk-secret' -Because $file.Name
        }
        (Get-CheckpointResult -RunId $summary.RunId -OutputDirectory $out -Status Failed).Error | Should -Not -Match 'sk-secret'
    }

    It 'keeps a secret out of every file when -Config holds it <Where>' -TestCases @(
        @{ Where = 'in a nested hashtable'; Config = @{ model = @{ auth = @{ api_key = 'sk-secret' } } } }
        @{ Where = 'in hashtables inside an array'; Config = @{ headers = @(@{ authorization = 'sk-secret' }, @{ accept = 'json' }) } }
        @{ Where = 'in a [pscustomobject] (as ConvertFrom-Json gives)'; Config = @{ provider = [pscustomobject]@{ name = 'p'; api_key = 'sk-secret' } } }
        @{ Where = 'under a camelCase name (ApiKey)'; Config = @{ ApiKey = 'sk-secret' } }
        @{ Where = 'under a header-style name (x-api-key)'; Config = @{ 'x-api-key' = 'sk-secret' } }
        @{ Where = 'as a SecureString under a plain name'; Config = @{ plain = (ConvertTo-SecureString 'sk-secret' -AsPlainText -Force) } }
    ) {
        $summary = Start-CheckpointRun $csv -Config $Config -OutputDirectory $out -Process { 'x' }
        $summary.CompletedSamples | Should -Be 3
        $files = @(Get-ChildItem $out -File -Force)
        $files.Count | Should -BeGreaterThan 2
        foreach ($file in $files) {
            [IO.File]::ReadAllText($file.FullName) | Should -Not -Match 'sk-secret' -Because $file.Name
        }
    }

    It 'changes the hash with -Seed' {
        $one = Start-CheckpointRun $csv -Seed 1 -OutputDirectory $out -Process { 'x' }
        $two = Start-CheckpointRun $csv -Seed 2 -OutputDirectory $out -Process { 'x' }
        $oneAgain = Start-CheckpointRun $csv -Seed 1 -OutputDirectory $out -Process { 'x' }
        $one.RunId | Should -Not -Be $two.RunId
        $oneAgain.RunId | Should -Be $one.RunId
        $one.RunId.Substring(0, $one.RunId.Length - 8) | Should -Be $two.RunId.Substring(0, $two.RunId.Length - 8)
    }

    It "continues on a second day the run the first day started (same, renamed RunId; nothing reprocessed)" {
        $first = Start-CheckpointRun $csv -OutputDirectory $out -Process { 'x' }
        $first.RunId | Should -BeLike "$today*"
        $yesterday = [DateTime]::UtcNow.AddDays(-1).ToString('yyyyMMdd', [cultureinfo]::InvariantCulture)
        $oldId = $yesterday + $first.RunId.Substring(8)
        foreach ($file in Get-ChildItem $out -File) {
            Rename-Item $file.FullName ($file.Name.Replace($first.RunId, $oldId))
        }
        # The run id marker, which every later start of the study reads, names the run as yesterday's start did.
        $marker = Join-Path $out "$($first.RunId.Substring(9)).runid"
        Get-Content $marker -Raw | Should -Be "$($first.RunId)`n"
        [IO.File]::WriteAllText($marker, "$oldId`n")
        Test-Path (Join-Path $out "$oldId.jsonl") | Should -BeTrue

        $log = Join-Path $dir 'calls.log'
        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process (New-LoggedBlock $log)
        $second.RunId | Should -Be $oldId
        $second.ProcessedThisRun | Should -Be 0
        $second.SkippedThisRun | Should -Be 3
        $second.Status | Should -Be 'Completed'
        @(Get-LoggedCall $log).Count | Should -Be 0
        @(Get-ChildItem $out -File -Filter "$today*").Count | Should -Be 0
    }

    It 'settles the run id in a marker that only a start writes, and that goes with the run' {
        $first = Start-CheckpointRun $csv -Limit 1 -OutputDirectory $out -Process { 'x' }
        $marker = Join-Path $out "$($first.RunId.Substring(9)).runid"
        Get-Content $marker -Raw | Should -Be "$($first.RunId)`n"

        # A run begun without a marker (an earlier release) stays without one for every reader and -WhatIf.
        Remove-Item $marker
        $before = Get-FileHashTable $out
        (Get-CheckpointStats -OutputDirectory $out).RunId | Should -Be $first.RunId
        Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out | Should -HaveCount 1
        Start-CheckpointRun $csv -WhatIf -OutputDirectory $out -Process { 'x' } | Should -BeNullOrEmpty
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }

        # The next start keeps the run's id and writes the marker for it.
        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process { 'x' }
        $second.RunId | Should -Be $first.RunId
        $second.ProcessedThisRun | Should -Be 2
        Get-Content $marker -Raw | Should -Be "$($first.RunId)`n"

        # -Overwrite deletes it with the run's files; the run started anew writes it again.
        $verbose = Start-CheckpointRun $csv -Overwrite -OutputDirectory $out -Process { 'x' } -Verbose 4>&1
        @($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -eq "Deleted $marker" }) | Should -HaveCount 1
        Get-Content $marker -Raw | Should -Be "$($first.RunId)`n"

        Remove-Checkpoint -RunId $first.RunId -OutputDirectory $out -Force
        @(Get-ChildItem $out -Force) | Should -BeNullOrEmpty
    }
}

Describe 'Start-CheckpointRun: -OutputDirectory' {
    It 'creates a missing -OutputDirectory relative to the current PowerShell location' {
        $dir = New-TestDirectory $TestDrive
        New-TestCsv (Join-Path $dir 'data.csv') -Count 2 | Out-Null
        Push-Location $dir
        try {
            $summary = Start-CheckpointRun 'data.csv' -OutputDirectory 'runs/nested' -Process { 'x' }
        }
        finally {
            Pop-Location
        }
        $expected = Join-Path $dir 'runs/nested'
        Test-Path $expected -PathType Container | Should -BeTrue
        $summary.Path | Should -Be (Join-Path $expected "$($summary.RunId).jsonl")
        @(Get-Content $summary.Path).Count | Should -Be 2
        # Not relative to the process's working directory.
        Test-Path (Join-Path ([Environment]::CurrentDirectory) 'runs/nested') | Should -BeFalse
    }
}

Describe 'Start-CheckpointRun: -Shard' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 12
    }

    It 'processes disjoint sets with 1/2 and 2/2 whose union is every sample, in {RunId}_shard-k-of-2.jsonl files' {
        $calls1 = [System.Collections.Generic.List[string]]::new()
        $calls2 = [System.Collections.Generic.List[string]]::new()
        $s1 = Start-CheckpointRun $csv -Shard '1/2' -OutputDirectory $out -Process { $calls1.Add($_.id); 'x' }
        $s2 = Start-CheckpointRun $csv -Shard '2/2' -OutputDirectory $out -Process { $calls2.Add($_.id); 'x' }
        $s1.RunId | Should -Be $s2.RunId
        $s1.Shard | Should -Be '1/2'
        $s2.Shard | Should -Be '2/2'
        $s1.Path | Should -Be (Join-Path $out "$($s1.RunId)_shard-1-of-2.jsonl")
        $s2.Path | Should -Be (Join-Path $out "$($s1.RunId)_shard-2-of-2.jsonl")
        Test-Path (Join-Path $out "$($s1.RunId).jsonl") | Should -BeFalse
        Test-Path (Join-Path $out "$($s1.RunId)_shard-1-of-2_resume_state.json") | Should -BeTrue

        $calls1.Count | Should -BeGreaterThan 0
        $calls2.Count | Should -BeGreaterThan 0
        @($calls1 | Where-Object { $calls2 -contains $_ }).Count | Should -Be 0
        (@($calls1) + @($calls2) | Sort-Object { [int]$_.Substring(1) }) | Should -Be @(1..12 | ForEach-Object { "q$_" })
        $s1.TotalSamples + $s2.TotalSamples | Should -Be 12
        $s1.TotalSamples | Should -Be $calls1.Count

        $records1 = Read-JsonlRecord $s1.Path
        $records1.sample_id | Should -Be @($calls1)
        $records1.shard | Sort-Object -Unique | Should -Be '1/2'
    }

    It '-Overwrite of one shard deletes that shard only, not the results of the other shards' {
        $s1 = Start-CheckpointRun $csv -Shard '1/2' -OutputDirectory $out -Process { 'one' }
        Start-CheckpointRun $csv -Shard '2/2' -OutputDirectory $out -Process { 'two' } | Out-Null
        $shard1Before = Get-Content $s1.Path -Raw
        $s2 = Start-CheckpointRun $csv -Shard '2/2' -Overwrite -OutputDirectory $out -Process { 'two again' }
        $s2.ProcessedThisRun | Should -Be $s2.TotalSamples
        (Read-JsonlRecord $s2.Path).output | Sort-Object -Unique | Should -Be 'two again'
        Test-Path $s1.Path | Should -BeTrue
        Get-Content $s1.Path -Raw | Should -BeExactly $shard1Before
        (Get-CheckpointStats -RunId $s1.RunId -OutputDirectory $out).CompletedSamples | Should -Be 12
    }

    It "refuses -Shard '<Shard>' with InvalidShard before creating any file" -TestCases @(
        @{ Shard = '0/2' }
        @{ Shard = '3/2' }
        @{ Shard = 'x' }
        @{ Shard = '2' }
    ) {
        $calls = [System.Collections.Generic.List[string]]::new()
        { Start-CheckpointRun $csv -Shard $Shard -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidShard,Checkpoint.Commands.StartCheckpointRunCommand'
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
        Get-FileTree $dir | Should -Be @('data.csv')
    }
}

Describe 'Start-CheckpointRun: checkpointing, resuming and retrying' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 5
        $log = Join-Path $dir 'calls.log'
    }

    It "writes 'Checkpoint saved: N completed, N errors' to the verbose stream every -CheckpointEvery results" {
        $csv = New-TestCsv (Join-Path $dir 'data8.csv') -Count 8
        # Each sample takes a moment, as a model call does, so that a checkpoint (taken in the background) ends
        # before the next sample does.
        $merged = Start-CheckpointRun $csv -CheckpointEvery 2 -MaxRetries 0 -OutputDirectory $out -Verbose -Process {
            Start-Sleep -Milliseconds 100
            if ($_.id -eq 'q3') { throw 'bad sample' }
            'x'
        } 4>&1
        $summary = @(Get-PipelineObject $merged)[0]
        $saved = @(Get-VerboseMessage $merged | Where-Object { $_ -like 'Checkpoint saved:*' })
        # 8 records, a checkpoint every 2: at least one on the way (checkpoints may be grouped), then the final one.
        $saved.Count | Should -BeGreaterOrEqual 2
        $saved[-1] | Should -Be 'Checkpoint saved: 7 completed, 1 errors'
        $previous = -1
        foreach ($message in $saved) {
            $message -match '^Checkpoint saved: (\d+) completed, (\d+) errors$' | Should -BeTrue -Because $message
            [int]$Matches[1] | Should -BeGreaterOrEqual $previous
            [int]$Matches[1] | Should -BeLessOrEqual 7
            $previous = [int]$Matches[1]
        }
        # Without -CheckpointEvery (10), 8 records give the final checkpoint only.
        $merged = Start-CheckpointRun $csv -NoResume -OutputDirectory (Join-Path $dir 'default') -Verbose -Process { 'x' } 4>&1
        @(Get-VerboseMessage $merged | Where-Object { $_ -like 'Checkpoint saved:*' }) | Should -Be @('Checkpoint saved: 8 completed, 0 errors')
        (Get-VerboseMessage $merged) | Should -Contain "Checkpoint system enabled: $(Join-Path (Join-Path $dir 'default') "$($summary.RunId).jsonl")"
    }

    It 'calls -Process, when started again, only for the samples not done' {
        $first = Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process (New-LoggedBlock $log)
        $first.Status | Should -Be 'Incomplete'
        Get-LoggedCall $log | Should -Be @('q1', 'q2')

        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process (New-LoggedBlock $log)
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $second.RunId | Should -Be $first.RunId
        $second.ProcessedThisRun | Should -Be 3
        $second.SkippedThisRun | Should -Be 2
        $second.Status | Should -Be 'Completed'
        (Read-JsonlRecord $second.Path).sample_id | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
    }

    It 'says on the verbose stream what it loads and skips: at most 3 skip lines, then a count' {
        $csv = New-TestCsv (Join-Path $dir 'data7.csv') -Count 7
        Start-CheckpointRun $csv -Limit 6 -OutputDirectory $out -Process { 'x' } | Out-Null
        $merged = Start-CheckpointRun $csv -OutputDirectory $out -Process { 'x' } -Verbose 4>&1
        $summary = (Get-PipelineObject $merged)[0]
        $messages = Get-VerboseMessage $merged
        $messages | Should -Contain "Checkpoint system enabled: $($summary.Path)"
        $messages | Should -Contain "Loading existing checkpoint from $($summary.Path)"
        $messages | Should -Contain 'Loaded 6 completed samples from checkpoint'
        $messages | Should -Contain 'Restored random state for deterministic resume'
        @($messages | Where-Object { $_ -like 'Skipping completed sample:*' }) |
            Should -Be @('Skipping completed sample: q1', 'Skipping completed sample: q2', 'Skipping completed sample: q3')
        $messages | Should -Contain '... (skipping 3 more completed samples)'
        $summary.SkippedThisRun | Should -Be 6
        $summary.ProcessedThisRun | Should -Be 1
    }

    It 'says nothing of loading or skipping on a first start' {
        $merged = Start-CheckpointRun $csv -OutputDirectory $out -Process { 'x' } -Verbose 4>&1
        $messages = Get-VerboseMessage $merged
        @($messages | Where-Object { $_ -like 'Checkpoint system enabled:*' }).Count | Should -Be 1
        @($messages | Where-Object { $_ -match '^(Loading existing|Loaded |Restored random|Skipping|\.\.\. \(skipping)' }).Count | Should -Be 0
    }

    It "writes 'Error processing sample X: <type>' and records the failure, which the next start retries" {
        $merged = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -Verbose 4>&1 -Process {
            if ($_.id -eq 'q2') { throw [System.InvalidOperationException]::new('no answer') }
            'x'
        }
        $first = (Get-PipelineObject $merged)[0]
        Get-VerboseMessage $merged | Should -Contain 'Error processing sample q2: System.InvalidOperationException'
        $first.Status | Should -Be 'Incomplete'
        $first.CompletedSamples | Should -Be 4
        $first.FailedSamples | Should -Be 1
        $failed = @(Read-JsonlRecord $first.Path | Where-Object status -EQ 'failed')
        $failed.Count | Should -Be 1
        $failed[0].sample_id | Should -Be 'q2'
        $failed[0].error.type | Should -Be 'System.InvalidOperationException'
        $failed[0].error.message | Should -Be 'no answer'

        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process (New-LoggedBlock $log)
        Get-LoggedCall $log | Should -Be @('q2')
        $second.Status | Should -Be 'Completed'
        $second.FailedSamples | Should -Be 0
        $last = (Read-JsonlRecord $second.Path)[-1]
        $last.sample_id | Should -Be 'q2'
        $last.status | Should -Be 'completed'
        $last.attempt | Should -Be 2
    }

    It 'cuts a torn last line off before appending, keeps its bytes in a sidecar, and warns' {
        $first = Start-CheckpointRun $csv -Limit 3 -OutputDirectory $out -Process { 'x' }
        $goodBytes = [IO.File]::ReadAllBytes($first.Path)
        $torn = '{"v":1,"sample_id":"q4","status":"compl'
        [IO.File]::AppendAllText($first.Path, $torn)
        $warnings = $null
        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process (New-LoggedBlock $log) -WarningVariable warnings -WarningAction SilentlyContinue
        Get-LoggedCall $log | Should -Be @('q4', 'q5')
        $second.Status | Should -Be 'Completed'
        @($warnings).Count | Should -BeGreaterThan 0
        $sidecars = @(Get-ChildItem $out -Filter "$($first.RunId).jsonl.damaged-*")
        $sidecars.Count | Should -Be 1
        [IO.File]::ReadAllText($sidecars[0].FullName) | Should -BeExactly $torn
        $bytes = [IO.File]::ReadAllBytes($second.Path)
        [Convert]::ToBase64String($bytes[0..($goodBytes.Length - 1)]) | Should -Be ([Convert]::ToBase64String($goodBytes))
        (Read-JsonlRecord $second.Path).sample_id | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $bytes[-1] | Should -Be 10
    }

    It '-NoResume processes every sample again and keeps the history' {
        Start-CheckpointRun $csv -OutputDirectory $out -Process { 'first' } | Out-Null
        $summary = Start-CheckpointRun $csv -NoResume -OutputDirectory $out -Process (New-LoggedBlock $log -Body "'second'")
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $summary.ProcessedThisRun | Should -Be 5
        $records = Read-JsonlRecord $summary.Path
        $records.Count | Should -Be 10
        foreach ($id in 1..5 | ForEach-Object { "q$_" }) {
            $mine = @($records | Where-Object sample_id -EQ $id)
            $mine.status | Should -Be @('completed', 'completed')
            $mine.output | Should -Be @('first', 'second')
        }
        (Get-CheckpointResult -RunId $summary.RunId -OutputDirectory $out).Output | Sort-Object -Unique | Should -Be 'second'
    }

    It '-Overwrite deletes the old files first' {
        $old = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -Process { if ($_.id -eq 'q1') { throw 'old failure' }; 'old' }
        Test-Path (Join-Path $out "$($old.RunId)_errors.log") | Should -BeTrue
        $new = Start-CheckpointRun $csv -Overwrite -OutputDirectory $out -Process (New-LoggedBlock $log -Body "'new'")
        $new.RunId | Should -Be $old.RunId
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $records = Read-JsonlRecord $new.Path
        $records.Count | Should -Be 5
        $records.output | Sort-Object -Unique | Should -Be 'new'
        $records.attempt | Sort-Object -Unique | Should -Be 1
        Get-Content $new.Path -Raw | Should -Not -Match 'old'
        Test-Path (Join-Path $out "$($old.RunId)_errors.log") | Should -BeFalse
    }

    It '-MaxRetries 2 on an always-failing block gives exactly 3 failed records, attempts 1,2,3, and 3 errors-log blocks' {
        # A transient error (a timeout): a script's own error is permanent and never retried.
        $merged = Start-CheckpointRun $csv -MaxRetries 2 -RetryDelaySeconds 0 -OutputDirectory $out -Verbose 4>&1 -Process (New-LoggedBlock $log -Body @'
if ($_.id -eq 'q4') { throw [System.TimeoutException]::new('always fails') }
'fine'
'@)
        $summary = (Get-PipelineObject $merged)[0]
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3', 'q4', 'q4', 'q4', 'q5')
        $failed = @(Read-JsonlRecord $summary.Path | Where-Object sample_id -EQ 'q4')
        $failed.Count | Should -Be 3
        $failed.status | Should -Be @('failed', 'failed', 'failed')
        $failed.attempt | Should -Be @(1, 2, 3)
        $summary.FailedSamples | Should -Be 1
        @(Get-VerboseMessage $merged | Where-Object { $_ -like 'Error processing sample q4: System.TimeoutException*' }).Count | Should -Be 3

        $errorLog = Get-Content (Join-Path $out "$($summary.RunId)_errors.log") -Raw
        $blocks = [regex]::Matches($errorLog, '(?m)^=== .*sample (\S+)\s+attempt (\d+).*===$')
        $blocks.Count | Should -Be 3
        $blocks | ForEach-Object { $_.Groups[1].Value } | Should -Be @('q4', 'q4', 'q4')
        $blocks | ForEach-Object { $_.Groups[2].Value } | Should -Be @('1', '2', '3')
        $errorLog | Should -Match 'always fails'
    }

    It '-ThrottleLimit 4 is accepted and gives the same results as -ThrottleLimit 1' {
        $one = Start-CheckpointRun $csv -ThrottleLimit 1 -OutputDirectory (Join-Path $dir 'one') -Process { "$($_.id)=$([int]$_.answer * 2)" }
        $four = Start-CheckpointRun $csv -ThrottleLimit 4 -OutputDirectory (Join-Path $dir 'four') -Process { "$($_.id)=$([int]$_.answer * 2)" }
        $four.Status | Should -Be 'Completed'
        $four.RunId | Should -Be $one.RunId
        $a = Get-CheckpointResult -RunId * -OutputDirectory (Join-Path $dir 'one') | Sort-Object SampleId
        $b = Get-CheckpointResult -RunId * -OutputDirectory (Join-Path $dir 'four') | Sort-Object SampleId
        $b.SampleId | Should -Be $a.SampleId
        $b.Output | Should -Be $a.Output
        $b.Output | Should -Contain 'q3=60'
    }

    It '-Limit 3 processes exactly 3 samples' {
        $summary = Start-CheckpointRun $csv -Limit 3 -OutputDirectory $out -Process (New-LoggedBlock $log)
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3')
        $summary.ProcessedThisRun | Should -Be 3
        $summary.CompletedSamples | Should -Be 3
        $summary.PendingSamples | Should -Be 2
        $summary.Status | Should -Be 'Incomplete'
        @(Get-Content $summary.Path).Count | Should -Be 3
    }

    It '-PassThru emits one Checkpoint.SampleResult per processed sample, with Output rebuilt' {
        Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process { 'x' } | Out-Null
        $all = @(Start-CheckpointRun $csv -PassThru -OutputDirectory $out -Process { [pscustomobject]@{ answer = [int]$_.answer; id = $_.id } })
        $results = @($all | Where-Object { $_ -is [Checkpoint.SampleResult] })
        $summaries = @($all | Where-Object { $_ -is [Checkpoint.RunSummary] })
        $all.Count | Should -Be 4
        $summaries.Count | Should -Be 1
        $results.SampleId | Should -Be @('q3', 'q4', 'q5')
        $results.Status | Sort-Object -Unique | Should -Be 'Completed'
        $results.Output.answer | Should -Be @(30, 40, 50)
        $results[0].Output.id | Should -Be 'q3'
        $results.RunId | Sort-Object -Unique | Should -Be $summaries[0].RunId
    }

    It '-PassThru emits failed samples too, with their error' {
        $all = @(Start-CheckpointRun $csv -PassThru -MaxRetries 0 -OutputDirectory $out -Process { if ($_.id -eq 'q4') { throw 'broken' }; 'ok' })
        $results = @($all | Where-Object { $_ -is [Checkpoint.SampleResult] })
        $results.SampleId | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
        $results.Status | Should -Be @('Completed', 'Completed', 'Completed', 'Failed', 'Completed')
        $results[3].Error | Should -Match 'broken'
        $results[0].Output | Should -Be 'ok'
    }

    It 'starts no sample once Select-Object -First has what it asked for, ends Interrupted, and a resume does the rest' {
        # Each sample takes a moment, as a model call does, so that each is written and reported before the next starts.
        $first = @(Start-CheckpointRun $csv -PassThru -OutputDirectory $out -Process (New-LoggedBlock $log -Body 'Start-Sleep -Milliseconds 20; $_.answer') |
                Select-Object -First 2)
        $first.SampleId | Should -Be @('q1', 'q2')
        Get-LoggedCall $log | Should -Be @('q1', 'q2')
        $stats = Get-CheckpointStats -OutputDirectory $out
        $stats.Status | Should -Be 'Interrupted'
        $stats.CompletedSamples | Should -Be 2
        (Read-JsonlRecord $stats.Path).sample_id | Should -Be @('q1', 'q2')

        $rest = Resume-CheckpointRun -Path $stats.Path
        $rest.Status | Should -Be 'Completed'
        Get-LoggedCall $log | Should -Be @('q1', 'q2', 'q3', 'q4', 'q5')
    }

    It 'at -ThrottleLimit 4 too, starts no new sample once Select-Object -First has what it asked for' {
        $csv = New-TestCsv (Join-Path $dir 'data40.csv') -Count 40
        $first = @(Start-CheckpointRun $csv -ThrottleLimit 4 -PassThru -OutputDirectory $out -Process { Start-Sleep -Milliseconds 100; $_.id } |
                Select-Object -First 1)
        $first.Count | Should -Be 1
        $stats = Get-CheckpointStats -OutputDirectory $out
        $stats.Status | Should -Be 'Interrupted'
        # The samples in flight, and those already handed to a worker, finish and are saved; no other starts.
        $stats.CompletedSamples | Should -BeLessOrEqual (1 + 2 * 4)
        @(Read-JsonlRecord $stats.Path).Count | Should -Be $stats.CompletedSamples
    }

    It 'fails an attempt that takes longer than -TimeoutSeconds with System.TimeoutException' {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $summary = Start-CheckpointRun $csv -Limit 2 -TimeoutSeconds 0.5 -MaxRetries 0 -OutputDirectory $out -Process {
            if ($_.id -eq 'q1') { Start-Sleep -Seconds 20 }
            'in time'
        }
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
        $records = Read-JsonlRecord $summary.Path
        $records.sample_id | Should -Be @('q1', 'q2')
        $records[0].status | Should -Be 'failed'
        $records[0].error.type | Should -Be 'System.TimeoutException'
        $records[1].output | Should -Be 'in time'
        $summary.FailedSamples | Should -Be 1
    }

    It "-WhatIf says what each run would do, with -Overwrite too (host output, read from a child pwsh)" {
        Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process { 'x' } | Out-Null
        $runId = (Get-CheckpointStats -OutputDirectory $out).RunId
        $module = (Resolve-Path $env:CHECKPOINT_TEST_MODULE).ProviderPath
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $script = @"
Import-Module '$($module.Replace("'", "''"))'
'--- plain'
Start-CheckpointRun '$($csv.Replace("'", "''"))' -WhatIf -OutputDirectory '$($out.Replace("'", "''"))' -Process { 'y' }
'--- overwrite'
Start-CheckpointRun '$($csv.Replace("'", "''"))' -WhatIf -Overwrite -OutputDirectory '$($out.Replace("'", "''"))' -Process { 'y' }
"@
        $text = (& $pwsh -NoProfile -NonInteractive -EncodedCommand ([Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) 2>&1) -join "`n"
        $plain, $overwrite = ($text -split '--- overwrite')
        $plain | Should -Match ([regex]::Escape("What if: Run ${runId}: 5 samples, 2 done, 3 pending, 0 failed; would process 3;"))
        $overwrite | Should -Match 'What if: .*-Overwrite'
        $overwrite | Should -Match ([regex]::Escape("What if: Run ${runId}: 5 samples"))
        @(Get-Content (Join-Path $out "$runId.jsonl")).Count | Should -Be 2
    }

    It '-WhatIf creates no file and never calls the block' {
        $summary = Start-CheckpointRun $csv -WhatIf -OutputDirectory $out -Process (New-LoggedBlock $log)
        $summary | Should -BeNullOrEmpty
        Get-LoggedCall $log | Should -BeNullOrEmpty
        Test-Path $out | Should -BeFalse
        Get-FileTree $dir | Should -Be @('data.csv')
    }

    It '-WhatIf with -Overwrite on an existing run changes no byte and never calls the block' {
        Start-CheckpointRun $csv -Limit 2 -OutputDirectory $out -Process { 'x' } | Out-Null
        $before = Get-FileHashTable $out
        Start-CheckpointRun $csv -WhatIf -Overwrite -OutputDirectory $out -Process (New-LoggedBlock $log) | Out-Null
        Get-LoggedCall $log | Should -BeNullOrEmpty
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }

    It 'outputs one Checkpoint.RunSummary per run with the documented properties' {
        $partial = Start-CheckpointRun $csv -Limit 4 -OutputDirectory $out -Process { 'x' }
        $done = Start-CheckpointRun $csv -OutputDirectory $out -Process { 'x' }
        foreach ($summary in $partial, $done) {
            @($summary).Count | Should -Be 1
            $summary.GetType().FullName | Should -Be 'Checkpoint.RunSummary'
            foreach ($name in 'RunId', 'Dataset', 'Model', 'Shard', 'TotalSamples', 'CompletedSamples', 'FailedSamples', 'PendingSamples',
                'ProcessedThisRun', 'SkippedThisRun', 'Duration', 'Status', 'Path') {
                $summary.PSObject.Properties.Name | Should -Contain $name
            }
            $summary.Duration | Should -BeOfType [TimeSpan]
            $summary.Model | Should -Be 'default'
            $summary.Shard | Should -BeNullOrEmpty
            $summary.Dataset | Should -Be $csv
            $summary.TotalSamples | Should -Be 5
        }
        $partial.Status | Should -Be 'Incomplete'
        $partial.CompletedSamples, $partial.FailedSamples, $partial.PendingSamples | Should -Be @(4, 0, 1)
        $partial.ProcessedThisRun, $partial.SkippedThisRun | Should -Be @(4, 0)
        $done.Status | Should -Be 'Completed'
        $done.CompletedSamples, $done.FailedSamples, $done.PendingSamples | Should -Be @(5, 0, 0)
        $done.ProcessedThisRun, $done.SkippedThisRun | Should -Be @(1, 4)
        $done.Path | Should -Be (Join-Path $out "$($done.RunId).jsonl")
    }
}

Describe 'Start-CheckpointRun on the shared GSM8K files' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
    }

    # Skipped where ../shared/data is missing (a user's clone); the files are read in place, never copied.
    It 'reads gsm8k-test.csv with its multi-line quoted answers (needs ../shared/data)' -Skip:$noSharedData {
        $seen = [System.Collections.Generic.List[object]]::new()
        $summary = Start-CheckpointRun (Join-Path $sharedData 'gsm8k-test.csv') -Limit 4 -OutputDirectory $out -Process {
            $seen.Add($_)
            ($_.answer -split '#### ')[-1].Trim()
        }
        $summary.TotalSamples | Should -Be 1319
        $summary.CompletedSamples | Should -Be 4
        $summary.Status | Should -Be 'Incomplete'
        $seen.id | Should -Be @('q1', 'q2', 'q3', 'q4')
        $seen[0].answer | Should -Match "`n"
        $seen[0].answer | Should -Match '#### 18$'
        (Read-JsonlRecord $summary.Path).output | Should -Be @('18', '3', '70000', '540')
    }

    It 'derives stable ids for gsm8k-test.jsonl, which has no id column (needs ../shared/data)' -Skip:$noSharedData {
        $jsonl = Join-Path $sharedData 'gsm8k-test.jsonl'
        $first = [System.Collections.Generic.List[string]]::new()
        $again = [System.Collections.Generic.List[string]]::new()
        $summary = Start-CheckpointRun $jsonl -Limit 3 -OutputDirectory $out -Process { $first.Add($CheckpointContext.SampleId); $_.question.Length }
        Start-CheckpointRun $jsonl -Limit 3 -OutputDirectory (Join-Path $dir 'other') -Process { $again.Add($CheckpointContext.SampleId) } | Out-Null
        $summary.TotalSamples | Should -Be 1319
        $first.Count | Should -Be 3
        $first | ForEach-Object { $_ | Should -Match '^r[0-9a-f]{16}$' }
        @($first | Sort-Object -Unique).Count | Should -Be 3
        $again | Should -Be @($first)
        (Read-JsonlRecord $summary.Path).sample_id | Should -Be @($first)
    }
}
