BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $startId = 'Checkpoint.Commands.StartCheckpointRunCommand'
}

Describe 'Start-CheckpointRun: bad input leaves no file behind' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $calls = [System.Collections.Generic.List[string]]::new()
    }

    It 'writes DatasetNotFound for a missing dataset' {
        { Start-CheckpointRun (Join-Path $dir 'missing.csv') -OutputDirectory $out -Process { $calls.Add('x') } -ErrorAction Stop } |
            Should -Throw -ErrorId "DatasetNotFound,$startId"
        $calls.Count | Should -Be 0
        Get-FileTree $dir | Should -BeNullOrEmpty
    }

    It 'writes <ErrorId> for <Case>' -TestCases @(
        @{ Case = 'a CSV with an unbalanced quote'; ErrorId = 'MalformedCsv'; Name = 'data.csv'; Text = "id,question`nq1,`"never closed`nq2,fine`n" }
        @{ Case = 'a CSV with a quote inside an unquoted field'; ErrorId = 'MalformedCsv'; Name = 'data.csv'; Text = "id,question`nq1,say `"hi`" now`n" }
        @{ Case = 'a CSV row with too many fields'; ErrorId = 'MalformedCsv'; Name = 'data.csv'; Text = "id,question`nq1,a,b`n" }
        @{ Case = 'a CSV header that names a column twice'; ErrorId = 'MalformedCsv'; Name = 'data.csv'; Text = "id,question,question`nq1,a,b`n" }
        @{ Case = 'a CSV header that names a column twice in other case'; ErrorId = 'MalformedCsv'; Name = 'data.csv'; Text = "id,ID`nq1,q2`n" }
        @{ Case = 'a JSONL line that is not JSON'; ErrorId = 'MalformedJson'; Name = 'data.jsonl'; Text = "{`"id`":`"q1`"}`nthis is not json`n{`"id`":`"q3`"}`n" }
        @{ Case = 'a JSONL line that is an array, not an object'; ErrorId = 'MalformedJson'; Name = 'data.jsonl'; Text = "{`"id`":`"q1`"}`n[1,2]`n" }
        @{ Case = 'duplicate ids in a CSV'; ErrorId = 'DuplicateSampleId'; Name = 'data.csv'; Text = "id,question`nq1,a`nq2,b`nq1,c`n" }
        @{ Case = 'duplicate ids in a JSONL'; ErrorId = 'DuplicateSampleId'; Name = 'data.jsonl'; Text = "{`"id`":`"a`"}`n{`"id`":`"a`"}`n" }
        @{ Case = 'two identical rows in a JSONL without ids'; ErrorId = 'DuplicateSampleId'; Name = 'data.jsonl'; Text = "{`"q`":`"same`"}`n{`"q`":`"other`"}`n{`"q`":`"same`"}`n" }
        @{ Case = 'an empty CSV file'; ErrorId = 'DatasetEmpty'; Name = 'data.csv'; Text = '' }
        @{ Case = 'a CSV with a header only'; ErrorId = 'DatasetEmpty'; Name = 'data.csv'; Text = "id,question`n" }
        @{ Case = 'an empty JSONL file'; ErrorId = 'DatasetEmpty'; Name = 'data.jsonl'; Text = "`n`n" }
        @{ Case = 'a row with an empty id'; ErrorId = 'EmptySampleId'; Name = 'data.csv'; Text = "id,question`nq1,a`n,b`n" }
        @{ Case = 'a dataset that is neither CSV nor JSONL'; ErrorId = 'DatasetFormatUnknown'; Name = 'data.txt'; Text = "id,question`nq1,a`n" }
    ) {
        $path = Write-TextFile (Join-Path $dir $Name) $Text
        { Start-CheckpointRun $path -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop } |
            Should -Throw -ErrorId "$ErrorId,$startId"
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
        Get-FileTree $dir | Should -Be @($Name)
        # The dataset itself is left as it was.
        [IO.File]::ReadAllText($path) | Should -BeExactly $Text
    }

    It 'writes InvalidPricing for -Pricing <Case>, and creates nothing' -TestCases @(
        @{ Case = 'whose model has no prices'; Arguments = @{ Pricing = @{ 'gpt-x' = 'cheap' } } }
        @{ Case = 'File that does not exist'; Arguments = @{ PricingFile = 'no-such-pricing.json' } }
        @{ Case = 'with a negative price'; Arguments = @{ Pricing = @{ default = @{ InputPerMillion = -1; OutputPerMillion = 2 } } } }
        @{ Case = 'with an empty price'; Arguments = @{ Pricing = @{ default = @{ InputPerMillion = 1; OutputPerMillion = $null } } } }
    ) {
        param($Case, $Arguments)
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        { Start-CheckpointRun $csv -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop @Arguments } |
            Should -Throw -ErrorId "InvalidPricing,$startId"
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
    }

    It 'refuses -MaxCost 0 (a budget that is spent), which would otherwise mean no budget at all' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        { Start-CheckpointRun $csv -MaxCost 0 -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$startId"
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
    }

    It 'refuses a -RetryOn or -NoRetryOn entry that is neither an HTTP status nor a type name: <Value>' -TestCases @(
        @{ Parameter = 'RetryOn'; Value = 'not a type!!' }
        @{ Parameter = 'NoRetryOn'; Value = '99999' }
    ) {
        param($Parameter, $Value)
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $arguments = @{ $Parameter = @('429', $Value) }
        { Start-CheckpointRun $csv -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop @arguments } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$startId"
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
    }

    It 'names the id and both rows in the DuplicateSampleId message' {
        $path = Write-TextFile (Join-Path $dir 'data.csv') "id,question`nq1,a`nq7,b`nq3,c`nq7,d`n"
        $caught = $null
        try { Start-CheckpointRun $path -OutputDirectory $out -Process { 'x' } -ErrorAction Stop } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be "DuplicateSampleId,$startId"
        $caught.Exception.Message | Should -Match "'q7'"
        $caught.Exception.Message | Should -Match 'rows 2 and 4'
        Test-Path $out | Should -BeFalse
    }

    It 'writes IdColumnNotFound for an -IdColumn the dataset lacks' {
        $path = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        { Start-CheckpointRun $path -IdColumn 'nope' -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop } |
            Should -Throw -ErrorId "IdColumnNotFound,$startId"
        $calls.Count | Should -Be 0
        Get-FileTree $dir | Should -Be @('data.csv')
    }

    It 'uses the column -IdColumn names as the sample id' {
        $path = Write-TextFile (Join-Path $dir 'data.csv') "key,question`nk-1,a`nk-2,b`n"
        $summary = Start-CheckpointRun $path -IdColumn 'key' -OutputDirectory $out -Process { $calls.Add($CheckpointContext.SampleId); $_.question }
        $calls | Should -Be @('k-1', 'k-2')
        (Read-JsonlRecord $summary.Path).sample_id | Should -Be @('k-1', 'k-2')
    }

    It 'goes on with the next dataset after a bad one' {
        $good = New-TestCsv (Join-Path $dir 'good.csv') -Count 2
        $errors = $null
        $summaries = @(Start-CheckpointRun (Join-Path $dir 'missing.csv'), $good -OutputDirectory $out -Process { 'x' } -ErrorAction SilentlyContinue -ErrorVariable errors)
        @($errors).Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be "DatasetNotFound,$startId"
        $summaries.Count | Should -Be 1
        $summaries[0].Dataset | Should -Be $good
        $summaries[0].CompletedSamples | Should -Be 2
    }
}

Describe 'Start-CheckpointRun: names that try to leave the output directory' {
    BeforeEach {
        # $box holds only what the test makes; $out is two levels down so that '../..' would land in $box.
        $box = New-TestDirectory $TestDrive
        $dir = Join-Path $box 'work'
        $out = Join-Path $dir 'out'
    }

    It "keeps a run of model '../../evil' inside the output directory" {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $summary = Start-CheckpointRun $csv -Model '../../evil' -OutputDirectory $out -Process { $CheckpointContext.Model }
        $summary.RunId | Should -Match '^\d{8}_data_[A-Za-z0-9._-]+_[0-9a-f]{8}$'
        $summary.RunId | Should -Not -Match '[/\\]'
        Split-Path $summary.Path -Parent | Should -Be $out
        # The block still gets the model name as given.
        (Read-JsonlRecord $summary.Path).output | Should -Be @('../../evil', '../../evil')
        Get-FileTree $box | Where-Object { $_ -notlike 'work/out/*' } | Should -Be @('work', 'work/data.csv', 'work/out')
        @(Get-ChildItem $out -File | Where-Object Name -NotLike "$($summary.RunId)*" | Where-Object Name -NE "$($summary.RunId.Substring(9)).runid").Count | Should -Be 0
        @(Get-ChildItem $TestDrive -Recurse -Force -Filter '*evil*' | Where-Object { $_.DirectoryName -ne $out }).Count | Should -Be 0
    }

    It "keeps a run of a dataset named '<Name>' inside the output directory" -TestCases @(
        @{ Name = '..csv' }
        @{ Name = '....jsonl' }
        @{ Name = '..%2F..%2Fx.csv' }
    ) {
        $path = Join-Path $dir $Name
        if ($Name -like '*.jsonl') { New-TestJsonl $path -Count 2 | Out-Null } else { New-TestCsv $path -Count 2 | Out-Null }
        $summary = Start-CheckpointRun -Dataset $path -OutputDirectory $out -Process { 'x' }
        $summary.CompletedSamples | Should -Be 2
        $summary.RunId | Should -Match '^\d{8}_[A-Za-z0-9._-]+_default_[0-9a-f]{8}$'
        $summary.RunId.Split('_')[1].Trim('.') | Should -Not -BeNullOrEmpty
        Split-Path $summary.Path -Parent | Should -Be $out
        Get-FileTree $box | Where-Object { $_ -notlike 'work/out/*' } | Should -Be @('work', "work/$Name", 'work/out')
        @(Get-ChildItem $out -File | Where-Object Name -NotLike "$($summary.RunId)*" | Where-Object Name -NE "$($summary.RunId.Substring(9)).runid").Count | Should -Be 0
        (Get-CheckpointStats -OutputDirectory $out).RunId | Should -Be $summary.RunId
    }
}

Describe 'Start-CheckpointRun: which files -Dataset names' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
    }

    It 'takes a file whose name holds [ and ] by its exact name, given or piped from Get-ChildItem' {
        $csv = New-TestCsv (Join-Path $dir 'gsm8k[v1].csv') -Count 3
        $given = Start-CheckpointRun $csv -OutputDirectory $out -Process { $_.id }
        $piped = Get-ChildItem -LiteralPath $csv | Start-CheckpointRun -OutputDirectory $out -Process { $_.id }

        $given.CompletedSamples | Should -Be 3
        $given.RunId | Should -Match '_gsm8k-v1-_'
        $piped.RunId | Should -Be $given.RunId
        $piped.SkippedThisRun | Should -Be 3
    }

    It 'writes DatasetNotFound for a pattern that matches no file, and creates nothing' {
        { Start-CheckpointRun (Join-Path $dir 'none*.csv') -OutputDirectory $out -Process { $_.id } -ErrorAction Stop } |
            Should -Throw -ErrorId "DatasetNotFound,$startId"
        Test-Path $out | Should -BeFalse
    }
}

Describe 'Start-CheckpointRun: a run keeps to its dataset' {
    BeforeEach {
        # Two files named test.csv, as the splits of one dataset often are: their run ids are the same.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $main = New-TestCsv (Join-Path $dir 'main/test.csv') -Count 2
        $other = New-TestCsv (Join-Path $dir 'socratic/test.csv') -Count 3 -IdPrefix 'q'
        $first = Start-CheckpointRun $main -OutputDirectory $out -Process { "main $($_.id)" }
        $before = Get-FileHashTable $out
    }

    It 'refuses another file of the same name with other content with RunOfOtherDataset, and changes nothing' {
        $calls = [System.Collections.Generic.List[string]]::new()
        { Start-CheckpointRun $other -OutputDirectory $out -Process { $calls.Add($_.id); 'other' } -ErrorAction Stop } |
            Should -Throw -ErrorId "RunOfOtherDataset,$startId" -ExpectedMessage "*holds the results of '$main'*"
        $calls | Should -BeNullOrEmpty
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
        @(Get-CheckpointResult -RunId $first.RunId -OutputDirectory $out).Output | Should -Be @('main q1', 'main q2')
    }

    It 'refuses another -IdColumn with RunOfOtherDataset, and changes nothing' {
        { Start-CheckpointRun $main -IdColumn question -OutputDirectory $out -Process { 'x' } -ErrorAction Stop } |
            Should -Throw -ErrorId "RunOfOtherDataset,$startId" -ExpectedMessage "*by the default id, not by the column 'question'*"
        $after = Get-FileHashTable $out
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }

    It 'goes on with the same file moved unchanged' {
        $moved = Join-Path $dir 'moved/test.csv'
        New-Item -ItemType Directory (Split-Path $moved) | Out-Null
        Move-Item $main $moved
        $again = Start-CheckpointRun $moved -OutputDirectory $out -Process { 'x' }
        $again.RunId | Should -Be $first.RunId
        $again.SkippedThisRun | Should -Be 2
        $again.ProcessedThisRun | Should -Be 0
    }
}

Describe 'Start-CheckpointRun: a dataset that changes while the run reads it' {
    It 'warns, ends Incomplete with counts that fit the dataset it counted, and a resume finishes the rows added' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        # The block itself appends two rows while the run reads the file (on the caller's thread, rows are read as needed).
        $summary = Start-CheckpointRun $csv -OutputDirectory $out -WarningVariable warnings -WarningAction SilentlyContinue -Process {
            if ($_.id -eq 'q2') { [IO.File]::AppendAllText($csv, "q98,added,980`nq99,added,990`n") }
            $_.id
        }

        $summary.Status | Should -Be 'Incomplete'
        $summary.TotalSamples | Should -Be 3
        $summary.CompletedSamples | Should -Be 3
        $summary.PendingSamples | Should -Be 0
        @($warnings | Where-Object { "$_" -match 'changed while the run read it' }).Count | Should -Be 1
        # The rows added were read and run too: the records say so.
        $stats = Get-CheckpointStats -RunId $summary.RunId -OutputDirectory $out
        $stats.TotalSamples, $stats.CompletedSamples, $stats.PendingSamples | Should -Be @(5, 5, 0)

        $resumed = Resume-CheckpointRun $summary.RunId -OutputDirectory $out -WarningAction SilentlyContinue
        $resumed.Status | Should -Be 'Completed'
        $resumed.TotalSamples, $resumed.CompletedSamples | Should -Be @(5, 5)
        @(Read-JsonlRecord $summary.Path | Where-Object status -EQ 'completed').sample_id | Sort-Object | Should -Be @('q1', 'q2', 'q3', 'q98', 'q99')
    }
}
