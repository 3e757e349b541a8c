# The benchmark script at its reduced size (-Quick), as a smoke test: every case still runs against the built
# module and prints its table. Timing is never judged here; build.ps1 -Task Bench runs the full size.
Describe 'The benchmark script at its reduced size' {
    BeforeAll {
        $script = Join-Path $PSScriptRoot '../../bench/Invoke-Benchmarks.ps1'
        $log = Join-Path $TestDrive 'bench.txt'
        $errors = Join-Path $TestDrive 'bench-errors.txt'
        $arguments = '-NoProfile', '-NonInteractive', '-File', $script, '-ModulePath', $env:CHECKPOINT_TEST_MODULE, '-Quick'
        $bench = Start-Process -FilePath (Join-Path $PSHOME 'pwsh') -ArgumentList $arguments -PassThru -RedirectStandardOutput $log -RedirectStandardError $errors
        $finished = $bench.WaitForExit(15 * 60 * 1000)
        if (-not $finished) { $bench.Kill($true) }
        $output = (Get-Content $log -Raw) -replace '\e\[[0-9;]*m', ''
    }

    It 'finishes within 15 minutes with exit code 0' {
        $finished | Should -BeTrue
        $bench.ExitCode | Should -Be 0 -Because (Get-Content $errors -Raw)
    }

    It 'prints the store, no-op, latency and resume tables with figures' {
        $output | Should -Match 'Store: append throughput'
        $output | Should -Match '(?m)^\s*10000\s+20000\s+\d+\s+\d+'
        $output | Should -Match '(?m)^\(a\) Import-Csv \| ForEach-Object, no checkpointing\s+[\d.]+'
        $output | Should -Match '(?m)^Start-CheckpointRun\s+[\d.]+\s+1'
        $output | Should -Match '(?m)^Start-CheckpointRun -ThrottleLimit 32\s+[\d.]+\s+[\d.]+'
        $output | Should -Match 'faster than ForEach-Object -Parallel'
        foreach ($format in 'CSV', 'JSONL') {
            $output | Should -Match "3\. Resume at scale, $format dataset: 20000 completed records, 5 pending"
        }

        ([regex]::Matches($output, '(?m)^Resume-CheckpointRun until the first pending sample starts\s+[\d.]+ s')).Count | Should -Be 2
        ([regex]::Matches($output, '(?m)^Get-CheckpointStats\s+[\d.]+ s')).Count | Should -Be 2
    }

    It 'prints the rate-limit table: seconds, ratio to ideal, 429 share and requests for each case' {
        $output | Should -Match '4\. Rate limits: 60 samples of one call each'
        foreach ($case in '\(a\) ForEach-Object -Parallel, retry loop', '\(c\) Start-CheckpointRun, adaptive only',
            '\(d\) Start-CheckpointRun -RateLimit 2400', '\(e\) tokens: -TokenRateLimit 288000') {
            $output | Should -Match "(?m)^$case\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\d+"
        }
    }
}
