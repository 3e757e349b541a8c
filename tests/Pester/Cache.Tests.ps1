# The response cache as a user meets it: $CheckpointContext.Cached(key, block) across attempts, runs and
# workers, -CacheDirectory and -NoCache, damage on disk, and bad input. Calls are counted by a log file the
# cached block appends to, which a worker runspace and a resume's stored block write as well.

BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $startId = 'Checkpoint.Commands.StartCheckpointRunCommand'

    # A block whose text names its call log literally (a resume rebuilds it from the state file): the cached
    # call's key is $KeyExpression, its output the sample's answer and the key's value.
    function New-CachedBlock([string] $Log, [string] $KeyExpression = '@{ q = $_.question }', [string] $Inner = '') {
        $quoted = "'" + $Log.Replace("'", "''") + "'"
        return [scriptblock]::Create(@"
`$CheckpointContext.Cached($KeyExpression, {
    $Inner
    # Appends from several runspaces at once could overwrite each other: one at a time, on a process-wide lock.
    `$lock = [string]::Intern($quoted)
    [System.Threading.Monitor]::Enter(`$lock)
    try { [System.IO.File]::AppendAllText($quoted, [string]`$_.id + "``n") } finally { [System.Threading.Monitor]::Exit(`$lock) }
    `$CheckpointContext.AddUsage(1000, 100)
    @{ answer = `$_.answer; asked = [string]`$_.question; list = 1, 2 }
})
"@)
    }

    function Get-CallCount([string] $Log) { @(Get-LoggedCall $Log).Count }

    $pricing = @{ m = @{ InputPerMillion = 2; OutputPerMillion = 10 } }
    # What one cached call (1000 input and 100 output tokens) would cost at $pricing.
    $callCost = [decimal]'0.003'
}

Describe 'Cached: calls made once' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $log = Join-Path $dir 'calls.log'
    }

    It 'makes one call per key across two runs with different -Config, and counts the hits as cached' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $block = New-CachedBlock $log
        $first = Start-CheckpointRun $csv -Model m -Config @{ prompt = 'a' } -Pricing $pricing -OutputDirectory $out -Process $block
        $second = Start-CheckpointRun $csv -Model m -Config @{ prompt = 'b' } -Pricing $pricing -OutputDirectory $out -Process $block
        $second.RunId | Should -Not -Be $first.RunId
        Get-CallCount $log | Should -Be 4
        $first.CacheHits | Should -Be 0
        $first.TotalCost | Should -Be (4 * $callCost)
        $second.CacheHits | Should -Be 4
        $second.CachedCost | Should -Be (4 * $callCost)
        $second.TotalCost | Should -Be 0
        $second.InputTokens | Should -Be 0
        $stats = Get-CheckpointStats -RunId $second.RunId -OutputDirectory $out
        $stats.CacheHits | Should -Be 4
        $stats.CachedCost | Should -Be (4 * $callCost)
        (Get-CheckpointStats -RunId $first.RunId -OutputDirectory $out).CacheHits | Should -Be 0
        # The hits are in the run's records, where the stats read them.
        (Read-JsonlRecord $second.Path).cache.hits | Should -Be @(1, 1, 1, 1)
    }

    It 'returns the same kind of object on a hit as on the call, and as Get-CheckpointResult gives' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 1
        $process = [scriptblock]::Create('$a = ' + (New-CachedBlock $log).ToString() + '; $b = ' + (New-CachedBlock $log).ToString() + '; @{ first = $a; second = $b; same = ($a | ConvertTo-Json -Compress) -eq ($b | ConvertTo-Json -Compress); kind = $a.GetType().Name + "/" + $b.GetType().Name }')
        $run = Start-CheckpointRun $csv -OutputDirectory $out -Process $process
        Get-CallCount $log | Should -Be 1
        $run.CacheHits | Should -Be 1
        $result = Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out
        $result.Output.same | Should -BeTrue
        $result.Output.kind | Should -Be 'PSCustomObject/PSCustomObject' -Because 'an object comes back as Get-CheckpointResult gives a stored one'
        $result.Output.first.answer | Should -Be 10
        $result.Output.second.list | Should -Be @(1, 2)
    }

    It 'makes 10 calls when 16 workers ask for the same 10 keys at once' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 160
        $block = New-CachedBlock $log -KeyExpression '@{ k = [int]$_.answer % 100 }' -Inner 'Start-Sleep -Milliseconds 300'
        $run = Start-CheckpointRun $csv -ThrottleLimit 16 -OutputDirectory $out -Process $block
        $run.CompletedSamples | Should -Be 160
        Get-CallCount $log | Should -Be 10
        $run.CacheHits | Should -Be 150
    }

    It 'keeps k samples of one prompt apart by an epoch in the key' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 1
        $process = [scriptblock]::Create('foreach ($epoch in 1..3) { ' + (New-CachedBlock $log -KeyExpression '@{ q = $_.question; epoch = $epoch }').ToString() + ' }')
        Start-CheckpointRun $csv -OutputDirectory $out -Process $process | Out-Null
        Start-CheckpointRun $csv -OutputDirectory $out -Config @{ again = 1 } -Process $process | Out-Null
        Get-CallCount $log | Should -Be 3
    }

    It 'stores only a block that returned without error: a failed call is made again' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 1
        $block = New-CachedBlock $log -Inner 'if ([System.IO.File]::Exists($using:log) -eq $false) { [System.IO.File]::AppendAllText($using:log, "failed`n"); throw [System.TimeoutException]::new("first call fails") }'
        $run = Start-CheckpointRun $csv -OutputDirectory $out -RetryDelaySeconds 0 -Process $block
        $run.Status | Should -Be 'Completed'
        Get-LoggedCall $log | Should -Be @('failed', 'q1')
        $run.CacheHits | Should -Be 0
        @(Get-Content (Get-ChildItem (Join-Path $out 'cache') -Filter 'segment-*.jsonl').FullName).Count | Should -Be 1
    }

    It 'works in the stored block a resume runs, in the cache the run keeps' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $cache = Join-Path $dir 'my-cache'
        $started = Start-CheckpointRun $csv -Limit 1 -CacheDirectory $cache -OutputDirectory $out -Process (New-CachedBlock $log)
        $resumed = Resume-CheckpointRun -RunId $started.RunId -OutputDirectory $out
        $resumed.Status | Should -Be 'Completed'
        Get-CallCount $log | Should -Be 3
        Test-Path (Join-Path $out 'cache') | Should -BeFalse -Because 'the run keeps its -CacheDirectory'
        $again = Start-CheckpointRun $csv -Config @{ x = 1 } -CacheDirectory $cache -OutputDirectory $out -Process (New-CachedBlock $log)
        $again.CacheHits | Should -Be 3
        Get-CallCount $log | Should -Be 3
    }

    It 'runs every call with -NoCache and writes no cache' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $block = New-CachedBlock $log
        Start-CheckpointRun $csv -NoCache -OutputDirectory $out -Process $block | Out-Null
        $run = Start-CheckpointRun $csv -NoCache -Config @{ x = 1 } -OutputDirectory $out -Process $block
        Get-CallCount $log | Should -Be 4
        $run.CacheHits | Should -Be 0
        Test-Path (Join-Path $out 'cache') | Should -BeFalse
    }

    It 'warns once when a key has a property named like a secret' {
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $block = New-CachedBlock $log -KeyExpression '@{ q = $_.question; api_key = "sk-x" }'
        # Worker runspaces (ThrottleLimit 2) pass the block's warnings to the caller's stream as they come.
        $run = Start-CheckpointRun $csv -ThrottleLimit 2 -OutputDirectory $out -Process $block -WarningVariable warned 3>$null
        $run.CompletedSamples | Should -Be 2
        @($warned | Where-Object { "$_" -match "property 'api_key', named like a secret" }).Count | Should -BeGreaterOrEqual 1
        # Only the key's hash is stored (the block's text, in the state file, holds what the user wrote).
        Get-ChildItem -LiteralPath (Join-Path $out 'cache') -File | Select-String -SimpleMatch 'sk-x' | Should -BeNullOrEmpty
    }
}

Describe 'Cached: damage' {
    It 'treats an entry with a flipped byte as a miss, with a warning, and calls again' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $log = Join-Path $dir 'calls.log'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $block = New-CachedBlock $log
        Start-CheckpointRun $csv -OutputDirectory $out -Process $block | Out-Null
        $segment = (Get-ChildItem (Join-Path $out 'cache') -Filter 'segment-*.jsonl').FullName
        $bytes = [System.IO.File]::ReadAllBytes($segment)
        # The first entry's answer 10 becomes 90: valid JSON, a wrong checksum.
        $at = [System.Text.Encoding]::UTF8.GetString($bytes).IndexOf('"answer":"10"')
        $at | Should -BeGreaterThan 0
        $bytes[$at + 10] = [byte][char]'9'
        [System.IO.File]::WriteAllBytes($segment, $bytes)
        [System.Text.Encoding]::UTF8.GetString([System.IO.File]::ReadAllBytes($segment)) | Should -Match '"answer":"90"'

        foreach ($reload in $false, $true) {
            # Once as this process's loaded index finds it when it reads the entry, once as a fresh load does.
            if ($reload) { [Checkpoint.Cache.CacheStore]::Forget((Join-Path $out 'cache')) }
            $before = Get-CallCount $log
            $run = Start-CheckpointRun $csv -Config @{ reload = $reload } -ThrottleLimit 2 -OutputDirectory $out -Process $block -WarningVariable warned 3>$null
            @($warned | Where-Object { "$_" -match 'damaged|fails its checksum' }).Count | Should -BeGreaterOrEqual 1 -Because "reload: $reload"
            $results = @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out)
            @($results.Output.answer | Sort-Object) | Should -Be @('10', '20') -Because 'nothing damaged is returned'
            # The undamaged entry is a hit; after a reload, so is the entry the first pass stored anew.
            $run.CacheHits | Should -Be ($reload ? 2 : 1)
            (Get-CallCount $log) - $before | Should -Be ($reload ? 0 : 1) -Because 'the damaged call is made again once, and then stored anew'
        }
    }
}

Describe 'Cached: bad input' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 1
    }

    It 'refuses a -CacheDirectory that is a file, before anything runs' {
        $file = Write-TextFile (Join-Path $dir 'a-file') 'x'
        { Start-CheckpointRun $csv -CacheDirectory $file -OutputDirectory $out -Process { 1 } } | Should -Throw -ErrorId "CacheDirectoryInvalid,$startId"
        Test-Path $out | Should -BeFalse
        Get-Content -LiteralPath $file -Raw | Should -Be 'x'
    }

    It 'refuses -CacheDirectory with -NoCache' {
        { Start-CheckpointRun $csv -CacheDirectory (Join-Path $dir 'c') -NoCache -OutputDirectory $out -Process { 1 } } | Should -Throw -ErrorId "CacheDirectoryInvalid,$startId"
        Test-Path $out | Should -BeFalse
    }

    It 'fails the sample, not the run, when Cached is given no script block' {
        $run = Start-CheckpointRun $csv -MaxRetries 0 -OutputDirectory $out -Process { $CheckpointContext.Cached(@{ a = 1 }, 'not a block') }
        $run.FailedSamples | Should -Be 1
        (Get-CheckpointResult -RunId $run.RunId -OutputDirectory $out -Status Failed).Error | Should -Match 'script block'
    }
}

Describe 'Get-CheckpointCache and Clear-CheckpointCache' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $log = Join-Path $dir 'calls.log'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $block = New-CachedBlock $log -KeyExpression '@{ q = $_.question; api_key = "sk-secret" }'
        $run = Start-CheckpointRun $csv -OutputDirectory $out -Process $block 3>$null
    }

    It 'says what the cache holds, and lists its entries by key with secrets masked' {
        $info = $run | Get-CheckpointCache
        $info.GetType().FullName | Should -Be 'Checkpoint.Cache.CacheInfo'
        $info.Entries | Should -Be 4
        $info.DamagedEntries | Should -Be 0
        $info.Segments | Should -Be 1
        $info.SizeBytes | Should -Be (Get-ChildItem (Join-Path $out 'cache') -File | Measure-Object Length -Sum).Sum
        $info.NewestEntry | Should -BeGreaterOrEqual $info.OldestEntry
        $entries = @(Get-CheckpointCache -OutputDirectory $out -Entry -KeyPattern '*What is 2 times*')
        $entries | Should -HaveCount 1
        $entries[0].Key | Should -Be '{"api_key":"***","q":"What is 2 times ten?"}'
        $entries[0].InputTokens | Should -Be 1000
        Get-ChildItem (Join-Path $out 'cache') -File | Select-String -SimpleMatch 'sk-secret' | Should -BeNullOrEmpty
    }

    It 'removes nothing under -WhatIf, then the entries a key pattern picks, and those calls are made again' {
        $cache = Join-Path $out 'cache'
        $before = Get-FileHashTable $cache
        Clear-CheckpointCache -OutputDirectory $out -KeyPattern '*What is 2 times*' -WhatIf
        (Get-FileHashTable $cache | ConvertTo-Json) | Should -Be ($before | ConvertTo-Json)
        Clear-CheckpointCache -CacheDirectory $cache -KeyPattern '*What is 2 times*' -Force
        (Get-CheckpointCache -OutputDirectory $out).Entries | Should -Be 3
        $again = Start-CheckpointRun $csv -Config @{ again = 1 } -OutputDirectory $out -Process $block 3>$null
        $again.CacheHits | Should -Be 3
        Get-CallCount $log | Should -Be 5
    }

    It 'removes by age, and everything without a filter' {
        Clear-CheckpointCache -OutputDirectory $out -OlderThanDays 1 -Force
        (Get-CheckpointCache -OutputDirectory $out).Entries | Should -Be 4
        Clear-CheckpointCache -OutputDirectory $out -Confirm:$false
        $info = Get-CheckpointCache -OutputDirectory $out
        $info.Entries | Should -Be 0
        $info.Segments | Should -Be 0
        Test-Path $run.Path | Should -BeTrue -Because 'the runs are not touched'
    }

    It 'removes damaged entries and counts them' {
        $segment = (Get-ChildItem (Join-Path $out 'cache') -Filter 'segment-*.jsonl').FullName
        $text = [System.IO.File]::ReadAllText($segment)
        [System.IO.File]::WriteAllText($segment, $text.Replace('"answer":"30"', '"answer":"31"'))
        (Get-CheckpointCache -OutputDirectory $out).DamagedEntries | Should -Be 1
        Clear-CheckpointCache -OutputDirectory $out -OlderThanDays 1 -Force
        $info = Get-CheckpointCache -OutputDirectory $out
        ($info.Entries, $info.DamagedEntries) | Should -Be @(3, 0)
    }

    It 'writes CacheNotFound for a folder without a cache' {
        { Get-CheckpointCache -OutputDirectory (Join-Path $dir 'none') -ErrorAction Stop } | Should -Throw -ErrorId 'CacheNotFound,Checkpoint.Commands.GetCheckpointCacheCommand'
        { Clear-CheckpointCache -CacheDirectory (Join-Path $dir 'none') -Force -ErrorAction Stop } | Should -Throw -ErrorId 'CacheNotFound,Checkpoint.Commands.ClearCheckpointCacheCommand'
    }
}
