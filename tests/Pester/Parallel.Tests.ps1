# -ThrottleLimit and deterministic results: a sample's output must not depend on order, resume point,
# shard count or parallelism.
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    $script:Data = Join-Path $TestDrive 'data.csv'
    1..60 | ForEach-Object { [pscustomobject]@{ id = "s$_"; value = $_ } } | Export-Csv $Data -NoTypeInformation
    # Uses both random sources; the output must be a function of (seed, sample id) alone.
    $script:Block = { [pscustomobject]@{ id = $_.id; a = $CheckpointContext.Random.Next(1000000); b = Get-Random -Maximum 1000000; c = $CheckpointContext.Random.NextDouble() } }

    function script:Get-Outputs([string] $Directory) {
        $map = @{}
        foreach ($r in Get-CheckpointResult -RunId * -OutputDirectory $Directory -Status Completed) {
            $map[$r.SampleId] = $r.OutputJson
        }
        $map
    }
    function script:Assert-SameOutputs($Expected, $Actual) {
        $Actual.Count | Should -Be $Expected.Count
        foreach ($id in $Expected.Keys) { $Actual[$id] | Should -BeExactly $Expected[$id] -Because "sample $id" }
    }
}

Describe 'Deterministic results' {
    BeforeAll {
        $script:Reference = Join-Path $TestDrive 'reference'
        Start-CheckpointRun -Dataset $Data -Process $Block -Seed 7 -OutputDirectory $Reference | Out-Null
        $script:Expected = Get-Outputs $Reference
    }

    It 'gives every sample its own stream: outputs differ between samples' {
        $Expected.Count | Should -Be 60
        @($Expected.Values | Sort-Object -Unique).Count | Should -Be 60
    }

    It 'gives the same outputs when the run is stopped and resumed at several points' {
        $dir = Join-Path $TestDrive 'resumed'
        foreach ($limit in 7, 13, 1, 22) {
            Start-CheckpointRun -Dataset $Data -Process $Block -Seed 7 -OutputDirectory $dir -Limit $limit | Out-Null
        }
        Resume-CheckpointRun -RunId * -OutputDirectory $dir | Out-Null
        Assert-SameOutputs $Expected (Get-Outputs $dir)
    }

    It 'gives the same outputs from a 4-way sharded run' {
        $dir = Join-Path $TestDrive 'sharded'
        foreach ($k in 3, 1, 4, 2) {
            Start-CheckpointRun -Dataset $Data -Process $Block -Seed 7 -OutputDirectory $dir -Shard "$k/4" | Out-Null
        }
        (Get-ChildItem $dir -Filter '*_shard-*-of-4.jsonl').Count | Should -Be 4
        Assert-SameOutputs $Expected (Get-Outputs $dir)
    }

    It 'gives the same outputs at ThrottleLimit <_>' -ForEach 1, 8 {
        $dir = Join-Path $TestDrive "throttle-$_"
        Start-CheckpointRun -Dataset $Data -Process $Block -Seed 7 -OutputDirectory $dir -ThrottleLimit $_ | Out-Null
        Assert-SameOutputs $Expected (Get-Outputs $dir)
    }

    It 'gives other outputs with another seed' {
        $dir = Join-Path $TestDrive 'seed8'
        Start-CheckpointRun -Dataset $Data -Process $Block -Seed 8 -OutputDirectory $dir | Out-Null
        (Get-Outputs $dir)['s1'] | Should -Not -Be $Expected['s1']
    }
}

Describe 'Get-Random called from a function' {
    BeforeAll {
        function global:Get-CheckpointTestPick { Get-Random -Maximum 1000000 }
        $script:Module = Join-Path $TestDrive 'Picker.psm1'
        Set-Content -LiteralPath $Module -Value 'function Get-ModulePick { Get-Random -Maximum 1000000 }'
    }

    AfterAll {
        Remove-Item function:Get-CheckpointTestPick
    }

    It 'is seeded per sample on the caller''s thread: the same outputs from a whole run and a resumed one' {
        $block = { [pscustomobject]@{ id = $_.id; pick = (Get-CheckpointTestPick) } }
        $whole = Join-Path $TestDrive 'function-whole'
        $parts = Join-Path $TestDrive 'function-parts'
        Start-CheckpointRun -Dataset $Data -Process $block -Seed 7 -OutputDirectory $whole | Out-Null
        Start-CheckpointRun -Dataset $Data -Process $block -Seed 7 -OutputDirectory $parts -Limit 9 | Out-Null
        Resume-CheckpointRun -RunId * -OutputDirectory $parts | Out-Null

        $expected = Get-Outputs $whole
        @($expected.Values | Sort-Object -Unique).Count | Should -Be 60
        Assert-SameOutputs $expected (Get-Outputs $parts)
    }

    It 'is seeded per sample in worker runspaces, in a function of an -ImportModule module' {
        $block = { [pscustomobject]@{ id = $_.id; pick = (Get-ModulePick) } }
        $first = Join-Path $TestDrive 'module-4'
        $second = Join-Path $TestDrive 'module-2'
        Start-CheckpointRun -Dataset $Data -Process $block -Seed 7 -ImportModule $Module -ThrottleLimit 4 -OutputDirectory $first | Out-Null
        Start-CheckpointRun -Dataset $Data -Process $block -Seed 7 -ImportModule $Module -ThrottleLimit 2 -OutputDirectory $second | Out-Null

        $expected = Get-Outputs $first
        @($expected.Values | Sort-Object -Unique).Count | Should -Be 60
        Assert-SameOutputs $expected (Get-Outputs $second)
    }
}

Describe 'ThrottleLimit' {
    It 'runs every sample exactly once, in parallel, through the single writer' {
        $dir = Join-Path $TestDrive 'parallel'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $summary = Start-CheckpointRun -Dataset $Data -Process { Start-Sleep -Milliseconds 100; $_.id } -ThrottleLimit 10 -OutputDirectory $dir
        $clock.Stop()
        $summary.CompletedSamples | Should -Be 60
        $lines = Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName
        $lines.Count | Should -Be 60
        ($lines | ForEach-Object { ($_ | ConvertFrom-Json).sample_id } | Sort-Object -Unique).Count | Should -Be 60
        # 60 x 100 ms one at a time would take 6 s; ten at a time well under that.
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
    }

    It 'starts no sample already handed to a worker once the API is taken to be down' {
        $dir = Join-Path $TestDrive 'outage'
        $calls = [System.Collections.Concurrent.ConcurrentBag[string]]::new()
        $outage = $null
        try {
            Start-CheckpointRun -Dataset $Data -ThrottleLimit 8 -MaxRetries 0 -MaxConsecutiveFailures 3 -MaxOutageMinutes 0 -OutputDirectory $dir -WarningAction SilentlyContinue -Process {
                ($using:calls).Add($_.id)
                Start-Sleep -Milliseconds 200
                throw [System.Net.Http.HttpRequestException]::new('down')
            } | Out-Null
        }
        catch { $outage = $_ }

        $outage.FullyQualifiedErrorId | Should -BeLike 'ApiOutage*'
        # Eight start together and fail together; the workers whose failures came before the third may take
        # one more each while the API still counts as up. Before, every sample queued for a worker started too.
        $calls.Count | Should -BeGreaterOrEqual 8
        $calls.Count | Should -BeLessOrEqual 10
        @(Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName).Count | Should -Be $calls.Count
    }

    It 'refuses a $using: variable the session has not set with UsingVariableNotSet, before anything runs, at ThrottleLimit <_>' -ForEach 1, 2 {
        $dir = Join-Path $TestDrive "using-unset-$_"
        { Start-CheckpointRun -Dataset $Data -ThrottleLimit $_ -OutputDirectory $dir -Process { [pscustomobject]@{ t = $using:checkpointTestNeverSet } } -ErrorAction Stop } |
            Should -Throw -ErrorId 'UsingVariableNotSet,Checkpoint.Commands.StartCheckpointRunCommand' -ExpectedMessage '*$using:checkpointTestNeverSet*'
        @(Get-ChildItem $dir -Recurse -File -ErrorAction SilentlyContinue).Count | Should -Be 0
    }

    It 'passes $using: values into the worker runspaces, as ForEach-Object -Parallel does' {
        $prefix = 'answer-'
        $table = @{ s1 = 'one' }
        $dir = Join-Path $TestDrive 'using'
        Start-CheckpointRun -Dataset $Data -Process { "$using:prefix$($_.id)/$(($using:table)[$_.id])" } -ThrottleLimit 4 -OutputDirectory $dir | Out-Null
        $results = Get-CheckpointResult -RunId * -OutputDirectory $dir
        ($results | Where-Object SampleId -EQ 's1').Output | Should -Be 'answer-s1/one'
        ($results | Where-Object SampleId -EQ 's2').Output | Should -Be 'answer-s2/'
    }

    It 'resolves relative paths against the caller''s location, at ThrottleLimit <_>' -ForEach 1, 4 {
        $dir = Join-Path $TestDrive "location-$_"
        $here = Join-Path $TestDrive "here-$_"
        $null = New-Item -ItemType Directory $here
        Set-Content -LiteralPath (Join-Path $here 'prompt.txt') -Value 'from here'
        Push-Location $here
        try {
            Start-CheckpointRun -Dataset $Data -Process { "$($PWD.Path)|$(Get-Content -LiteralPath ./prompt.txt)" } -ThrottleLimit $_ -OutputDirectory $dir -Limit 8 | Out-Null
        }
        finally {
            Pop-Location
        }

        $outputs = @(Get-CheckpointResult -RunId * -OutputDirectory $dir | ForEach-Object Output)
        $outputs.Count | Should -Be 8
        $outputs | Sort-Object -Unique | Should -BeExactly "$here|from here"
    }

    It 'passes on what blocks in worker runspaces write to their other streams, as ForEach-Object -Parallel does' {
        $dir = Join-Path $TestDrive 'streams'
        $summary = Start-CheckpointRun -Dataset $Data -Process {
            Write-Warning "warning $($_.id)"
            Write-Error "error $($_.id)" -ErrorAction Continue
            Write-Information "information $($_.id)"
            Write-Host "host $($_.id)"
            $_.id
        } -ThrottleLimit 4 -OutputDirectory $dir -Limit 10 -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable errors -ErrorAction SilentlyContinue -InformationVariable information
        # An error the block asked to go on from does not fail the attempt, as on the caller's thread.
        $summary.CompletedSamples | Should -Be 10
        $ids = @(Get-CheckpointResult -RunId * -OutputDirectory $dir | ForEach-Object SampleId | Sort-Object)
        @($warnings | ForEach-Object { "$_" -replace '^warning ' } | Sort-Object) | Should -Be $ids
        @($errors | ForEach-Object { "$_" -replace '^error ' } | Sort-Object) | Should -Be $ids
        @($information | Where-Object { "$_" -like 'information *' } | ForEach-Object { "$_" -replace '^information ' } | Sort-Object) | Should -Be $ids
        @($information | Where-Object { "$_" -like 'host *' } | ForEach-Object { "$_" -replace '^host ' } | Sort-Object) | Should -Be $ids
    }

    It 'passes those records on as they are written, not when the attempt ends' {
        $dir = Join-Path $TestDrive 'streams-live'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $arrivals = Start-CheckpointRun -Dataset $Data -Process { Write-Warning "started $($_.id)"; Start-Sleep -Milliseconds 1500; $_.id } -ThrottleLimit 2 -OutputDirectory $dir -Limit 2 -PassThru 3>&1 |
            ForEach-Object { [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Item = $_ } }
        $warnings = @($arrivals | Where-Object { $_.Item -is [System.Management.Automation.WarningRecord] })
        $results = @($arrivals | Where-Object { $_.Item -is [Checkpoint.SampleResult] })
        $warnings.Count | Should -Be 2
        $results.Count | Should -Be 2
        # Each attempt sleeps 1.5 s after its warning; the warning must not wait for the attempt to end.
        ($results[0].Seconds - $warnings[-1].Seconds) | Should -BeGreaterThan 1
    }

    It 'retries and fails each sample on its own' {
        $dir = Join-Path $TestDrive 'errors'
        $summary = Start-CheckpointRun -Dataset $Data -Process {
            if ($_.id -eq 's5') { throw [System.TimeoutException]::new('flaky') }
            if ($_.id -eq 's6' -and $CheckpointContext.Attempt -lt 2) { throw [System.IO.IOException]::new('once') }
            if ($_.id -eq 's7') { throw 'a script error is permanent' }
            $_.id
        } -ThrottleLimit 6 -MaxRetries 2 -RetryDelaySeconds 0 -OutputDirectory $dir
        $summary.CompletedSamples | Should -Be 58
        $summary.FailedSamples | Should -Be 2
        $records = Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName | ForEach-Object { $_ | ConvertFrom-Json }
        @($records | Where-Object sample_id -EQ 's5').Count | Should -Be 3
        @($records | Where-Object sample_id -EQ 's6').status | Should -Be @('failed', 'completed')
        @($records | Where-Object sample_id -EQ 's7').Count | Should -Be 1
        ($records | Where-Object sample_id -EQ 's7').final | Should -BeTrue
    }

    It 'starts none of the samples already handed to a worker once -MaxCost is spent' {
        $dir = Join-Path $TestDrive 'budget'
        # Each sample costs 1 and takes a moment, as a model call does; with 4 workers, 4 more samples wait
        # handed over. Once 3 are paid for, only the samples in flight (at most 4) may still finish.
        $summary = Start-CheckpointRun -Dataset $Data -Process { $CheckpointContext.AddCost(1); Start-Sleep -Milliseconds 150; $_.id } -ThrottleLimit 4 -MaxCost 3 -OutputDirectory $dir 3>$null
        $summary.Status | Should -Be 'BudgetReached'
        $summary.CompletedSamples | Should -BeGreaterOrEqual 3
        $summary.CompletedSamples | Should -BeLessOrEqual (3 + 4)
        $summary.ProcessedThisRun | Should -Be $summary.CompletedSamples
        $summary.PendingSamples | Should -Be (60 - $summary.CompletedSamples)
        @(Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName).Count | Should -Be $summary.CompletedSamples
    }

    It 'stops cleanly when the pipeline is stopped while fast samples go through the writer thread' {
        $dir = Join-Path $TestDrive 'stop-fast'
        $fast = Join-Path $TestDrive 'fast.csv'
        [IO.File]::WriteAllLines($fast, [string[]](@('id,value') + (1..20000 | ForEach-Object { "f$_,$_" })))
        $shell = [powershell]::Create()
        $null = $shell.AddScript({
                param($module, $data, $dir)
                Import-Module $module
                Start-CheckpointRun -Dataset $data -Process { $_.value } -OutputDirectory $dir
            }).AddArgument($env:CHECKPOINT_TEST_MODULE).AddArgument($fast).AddArgument($dir)
        $async = $shell.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not (Get-ChildItem $dir -Filter *.jsonl -ErrorAction SilentlyContinue | Where-Object Length -GT 0) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $shell.Stop()
        $shell.Dispose()
        $state = Get-Content (Get-ChildItem $dir -Filter *_resume_state.json).FullName -Raw | ConvertFrom-Json
        $state.status | Should -Be 'Interrupted'
        $lines = @(Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName)
        $lines.Count | Should -BeGreaterThan 0
        $lines.Count | Should -BeLessThan 20000
        $state.counters.completed_samples | Should -Be $lines.Count
        # Every line is whole; the resume does the rest, each sample exactly once.
        $summary = Resume-CheckpointRun -RunId * -OutputDirectory $dir
        $summary.Status | Should -Be 'Completed'
        $summary.SkippedThisRun | Should -Be $lines.Count
        $ids = Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName | ForEach-Object { ([regex]::Match($_, '"sample_id":"([^"]+)"')).Groups[1].Value }
        @($ids).Count | Should -Be 20000
        @($ids | Sort-Object -Unique).Count | Should -Be 20000
    }

    It 'stops cleanly when the pipeline is stopped, at ThrottleLimit <_>' -ForEach 1, 8 {
        $dir = Join-Path $TestDrive "stop-$_"
        $shell = [powershell]::Create()
        $null = $shell.AddScript({
                param($module, $data, $dir, $throttle)
                Import-Module $module
                Start-CheckpointRun -Dataset $data -Process { Start-Sleep -Milliseconds 300; $_.id } -ThrottleLimit $throttle -OutputDirectory $dir
            }).AddArgument($env:CHECKPOINT_TEST_MODULE).AddArgument($Data).AddArgument($dir).AddArgument($_)
        $async = $shell.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not (Get-ChildItem $dir -Filter *.jsonl -ErrorAction SilentlyContinue | Where-Object Length -GT 0) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Start-Sleep -Milliseconds 500
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $shell.Stop()
        $clock.Stop()
        $shell.Dispose()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $state = Get-Content (Get-ChildItem $dir -Filter *_resume_state.json).FullName -Raw | ConvertFrom-Json
        $state.status | Should -Be 'Interrupted'
        $done = @(Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName | ForEach-Object { $_ | ConvertFrom-Json })
        $done.Count | Should -BeGreaterThan 0
        $done.Count | Should -BeLessThan 60
        # The rest is pending and a resume finishes it without redoing anything.
        $summary = Resume-CheckpointRun -RunId * -OutputDirectory $dir -Process { $_.id } -ThrottleLimit 4
        $summary.Status | Should -Be 'Completed'
        $summary.SkippedThisRun | Should -Be $done.Count
        $all = Get-Content (Get-ChildItem $dir -Filter *.jsonl).FullName | ForEach-Object { ($_ | ConvertFrom-Json).sample_id }
        @($all).Count | Should -Be 60
    }
}

Describe '-ImportModule' {
    BeforeAll {
        $script:ModuleDir = Join-Path $TestDrive 'modules'
        New-Item -ItemType Directory -Path $ModuleDir | Out-Null
        Set-Content (Join-Path $ModuleDir 'Doubler.psm1') "function Get-Double([int] `$n) { 2 * `$n }`nExport-ModuleMember -Function Get-Double"
        Set-Content (Join-Path $ModuleDir 'Broken.psm1') "throw 'broken on purpose'"
        $script:Small = Join-Path $TestDrive 'small.csv'
        1..6 | ForEach-Object { [pscustomobject]@{ id = "m$_"; value = $_ } } | Export-Csv $Small -NoTypeInformation
    }

    It 'imports a module given by a relative path into every worker runspace' {
        $dir = Join-Path $TestDrive 'import'
        Push-Location $ModuleDir
        try {
            $summary = Start-CheckpointRun -Dataset $Small -Process { Get-Double $_.value } -ThrottleLimit 3 -ImportModule ./Doubler.psm1 -OutputDirectory $dir
        }
        finally { Pop-Location }
        $summary.CompletedSamples | Should -Be 6
        $outputs = @{}
        Get-CheckpointResult -RunId * -OutputDirectory $dir | ForEach-Object { $outputs[$_.SampleId] = $_.Output }
        foreach ($i in 1..6) { $outputs["m$i"] | Should -Be (2 * $i) }
        # Kept absolute, so a resume from anywhere imports the same file.
        $state = Get-Content (Get-ChildItem $dir -Filter *_resume_state.json).FullName -Raw
        $state | Should -Match ([regex]::Escape((Join-Path $ModuleDir 'Doubler.psm1').Replace('\', '\\')))
    }

    It 'does not give worker runspaces the modules the caller imported' {
        Import-Module (Join-Path $ModuleDir 'Doubler.psm1')
        try {
            $dir = Join-Path $TestDrive 'not-imported'
            $summary = Start-CheckpointRun -Dataset $Small -Process { Get-Double $_.value } -ThrottleLimit 3 -MaxRetries 0 -OutputDirectory $dir
        }
        finally { Remove-Module Doubler }
        $summary.CompletedSamples | Should -Be 0
        $summary.FailedSamples | Should -Be 6
        (Get-CheckpointResult -RunId * -OutputDirectory $dir -Status Failed)[0].Error | Should -Match '^System.Management.Automation.CommandNotFoundException: .*Get-Double'
    }

    It 'writes ImportModuleNotFound for <Case> before anything runs' -TestCases @(
        @{ Case = 'a path that does not exist'; Module = 'missing/Nope.psm1' }
        @{ Case = 'a name not on PSModulePath'; Module = 'NoSuchCheckpointTestModule' }
    ) {
        $dir = Join-Path $TestDrive ('notfound-' + [guid]::NewGuid().ToString('N'))
        { Start-CheckpointRun -Dataset $Small -Process { 1 } -ThrottleLimit 2 -ImportModule $Module -OutputDirectory $dir -ErrorAction Stop } |
            Should -Throw -ErrorId 'ImportModuleNotFound,Checkpoint.Commands.StartCheckpointRunCommand'
        Test-Path $dir | Should -BeFalse
    }

    It 'writes ImportModuleFailed for a module that fails to import, and completes no sample' {
        $dir = Join-Path $TestDrive 'broken'
        { Start-CheckpointRun -Dataset $Small -Process { 1 } -ThrottleLimit 2 -ImportModule (Join-Path $ModuleDir 'Broken.psm1') -OutputDirectory $dir -ErrorAction Stop } |
            Should -Throw -ErrorId 'ImportModuleFailed,Checkpoint.Commands.StartCheckpointRunCommand'
        $stats = Get-CheckpointStats -RunId * -OutputDirectory $dir
        $stats.CompletedSamples | Should -Be 0
        $stats.PendingSamples | Should -Be 6
    }
}
