BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $startId = 'Checkpoint.Commands.StartCheckpointRunCommand'
    $resumeId = 'Checkpoint.Commands.ResumeCheckpointRunCommand'

    function Get-KeptSetting([string] $OutputDirectory, [string] $RunId) {
        (Get-Content (Join-Path $OutputDirectory "$($RunId)_resume_state.json") -Raw | ConvertFrom-Json).settings
    }
}

Describe '-RateLimit and -TokenRateLimit: bad values' {
    BeforeEach {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $calls = [System.Collections.Generic.List[string]]::new()
    }

    It 'Start-CheckpointRun refuses -<Parameter> <Value> with <ErrorId> before any work, and writes nothing' -TestCases @(
        @{ Parameter = 'RateLimit'; Value = 0; ErrorId = 'ParameterArgumentValidationError' }
        @{ Parameter = 'RateLimit'; Value = -500; ErrorId = 'ParameterArgumentValidationError' }
        @{ Parameter = 'RateLimit'; Value = 'fast'; ErrorId = 'CannotConvertArgumentNoMessage' }
        @{ Parameter = 'TokenRateLimit'; Value = 0; ErrorId = 'ParameterArgumentValidationError' }
        @{ Parameter = 'TokenRateLimit'; Value = -1; ErrorId = 'ParameterArgumentValidationError' }
        @{ Parameter = 'TokenRateLimit'; Value = '30k'; ErrorId = 'CannotConvertArgumentNoMessage' }
    ) {
        param($Parameter, $Value, $ErrorId)
        $arguments = @{ $Parameter = $Value }
        { Start-CheckpointRun $csv -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop @arguments } |
            Should -Throw -ErrorId "$ErrorId,$startId"
        $calls.Count | Should -Be 0
        Test-Path $out | Should -BeFalse
    }

    It 'Resume-CheckpointRun refuses -<Parameter> <Value> with <ErrorId> and leaves the run''s files as they were' -TestCases @(
        @{ Parameter = 'RateLimit'; Value = 0; ErrorId = 'ParameterArgumentValidationError' }
        @{ Parameter = 'TokenRateLimit'; Value = 'lots'; ErrorId = 'CannotConvertArgumentNoMessage' }
    ) {
        param($Parameter, $Value, $ErrorId)
        $started = Start-CheckpointRun $csv -OutputDirectory $out -Limit 1 -Process { $_.id }
        $before = Get-FileHashTable $out
        $arguments = @{ $Parameter = $Value }
        { Resume-CheckpointRun $started.RunId -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop @arguments } |
            Should -Throw -ErrorId "$ErrorId,$resumeId"
        $calls.Count | Should -Be 0
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }
}

Describe '-RateLimit and -TokenRateLimit: kept in the run' {
    It 'are kept as the start gave them, and a resume changes the one it is given' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 3
        $started = Start-CheckpointRun $csv -RateLimit 500 -TokenRateLimit 30000 -Limit 1 -OutputDirectory $out -Process { $_.id }
        $kept = Get-KeptSetting $out $started.RunId
        $kept.rate_limit, $kept.token_rate_limit | Should -Be @(500, 30000)

        $null = Resume-CheckpointRun $started.RunId -OutputDirectory $out -RateLimit 250 -Limit 1

        $kept = Get-KeptSetting $out $started.RunId
        $kept.rate_limit, $kept.token_rate_limit | Should -Be @(250, 30000)
    }

    It 'are kept as none (0) when not given' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $started = Start-CheckpointRun (New-TestCsv (Join-Path $dir 'data.csv') -Count 1) -OutputDirectory $out -Process { $_.id }
        $kept = Get-KeptSetting $out $started.RunId
        $kept.rate_limit, $kept.token_rate_limit | Should -Be @(0, 0)
    }
}

Describe 'A 429 in a block' {
    BeforeAll {
        # The first attempt of every sample is answered 429 with Retry-After 0.2 s, as Invoke-RestMethod reports it.
        $throttled = {
            if ($CheckpointContext.Attempt -eq 1) {
                $response = [System.Net.Http.HttpResponseMessage]::new([System.Net.HttpStatusCode]::TooManyRequests)
                $response.Headers.RetryAfter = [System.Net.Http.Headers.RetryConditionHeaderValue]::new([TimeSpan]::FromMilliseconds(200))
                throw [Microsoft.PowerShell.Commands.HttpResponseException]::new('Response status code does not indicate success: 429 (Too Many Requests).', $response)
            }
            $_.id
        }
    }

    It 'is counted in RunSummary.RateLimitedCount at ThrottleLimit <ThrottleLimit>, and uses up none of -MaxRetries 0' -TestCases @(
        @{ ThrottleLimit = 1 }
        @{ ThrottleLimit = 4 }
    ) {
        param($ThrottleLimit)
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 6
        $summary = Start-CheckpointRun $csv -ThrottleLimit $ThrottleLimit -MaxRetries 0 -MaxConsecutiveFailures 2 -OutputDirectory $out -Process $throttled -WarningVariable warnings -WarningAction SilentlyContinue
        $summary.Status | Should -Be 'Completed'
        $summary.CompletedSamples | Should -Be 6
        $summary.RateLimitedCount | Should -Be 6
        $summary.Concurrency | Should -BeGreaterOrEqual 1
        $summary.Concurrency | Should -BeLessOrEqual $ThrottleLimit
        @($warnings | Where-Object { "$_" -match 'looks down' }) | Should -BeNullOrEmpty -Because 'a 429 is no outage'
        $failed = @(Read-JsonlRecord $summary.Path | Where-Object status -EQ 'failed')
        $failed.Count | Should -Be 6
        @($failed | Where-Object { $_.error.http_status -ne 429 -or $_.final -or $_.attempt -ne 1 }) | Should -BeNullOrEmpty
    }
}

Describe '$CheckpointContext.WaitForRate() under -RateLimit' {
    It 'takes one request per call of a block that makes two, at ThrottleLimit <ThrottleLimit>' -TestCases @(
        @{ ThrottleLimit = 1 }
        @{ ThrottleLimit = 4 }
    ) {
        param($ThrottleLimit)
        # 1,200 a minute: 20 a second, a second's worth at once; 15 samples make 30 calls.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 15
        $summary = Start-CheckpointRun $csv -ThrottleLimit $ThrottleLimit -RateLimit 1200 -OutputDirectory $out -Process {
            $CheckpointContext.WaitForRate()
            $first = [Diagnostics.Stopwatch]::GetTimestamp()
            $CheckpointContext.WaitForRate(100)
            $second = [Diagnostics.Stopwatch]::GetTimestamp()
            @($first, $second)
        }
        $summary.CompletedSamples | Should -Be 15
        $starts = @(Read-JsonlRecord $summary.Path | ForEach-Object { $_.output } | ForEach-Object { [long]$_ } | Sort-Object)
        $starts.Count | Should -Be 30
        $frequency = [Diagnostics.Stopwatch]::Frequency
        for ($i = 0; $i -lt $starts.Count; $i++) {
            for ($j = $i; $j -lt $starts.Count; $j++) {
                $allowed = 20 + 20 * ($starts[$j] - $starts[$i]) / $frequency + 1
                ($j - $i + 1) | Should -BeLessOrEqual $allowed -Because "calls $i to $j are $((($starts[$j] - $starts[$i]) / $frequency).ToString('0.000')) s apart"
            }
        }
    }

    It 'loads System.Threading.RateLimiting into the module''s own load context' {
        $dir = New-TestDirectory $TestDrive
        $null = Start-CheckpointRun (New-TestCsv (Join-Path $dir 'data.csv') -Count 1) -RateLimit 60 -OutputDirectory (Join-Path $dir 'out') -Process { $_.id }
        $loaded = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'System.Threading.RateLimiting' })
        $loaded.Count | Should -Be 1
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($loaded[0]).Name | Should -Be 'Checkpoint'
    }
}
