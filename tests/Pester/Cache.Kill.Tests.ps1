<#
    The response cache under SIGKILL: a child pwsh runs a study whose block makes five cached calls a sample
    with large outputs at -ThrottleLimit 4, and is killed while it writes them. What its segment holds must
    be whole checksummed entries (a torn last line at most, never read), and a resume must return only whole
    outputs, taking the calls that were stored before the kill from the cache.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:ChildModule = Copy-ModuleSnapshot (Join-Path $TestDrive 'module')
    $script:Child = $null
}

AfterAll {
    Stop-ChildProcess $script:Child
}

Describe 'Cached: SIGKILL during a burst of cache writes, then a resume' {
    It 'leaves no damaged entry and returns nothing half-written' {
        $work = Join-Path $TestDrive 'kill'
        $out = Join-Path $work 'out'
        $cache = Join-Path $out 'cache'
        $rows = foreach ($i in 1..400) { [ordered]@{ id = 'k{0:d3}' -f $i; n = $i } }
        $csv = New-ResilienceCsv -Path (Join-Path $work 'data.csv') -Rows $rows
        $block = @'
foreach ($i in 1..5) {
    $reply = $CheckpointContext.Cached(@{ n = [int]$_.n; i = $i }, { @{ n = [int]$_.n; i = $i; text = ('x' * 4000) + "|$($_.n)-$i" } })
    if ($reply.text -ne ('x' * 4000) + "|$($_.n)-$i") { throw "A cached output came back wrong for $($_.n)-$i." }
}
[int]$_.n
'@
        $spec = [ordered]@{
            Module = $ChildModule; Command = 'Start'; Dataset = $csv; OutputDirectory = $out; Block = $block
            Parameters = @{ ThrottleLimit = 4 }; ResultPath = Join-Path $work 'child.json'
        }
        $script:Child = Start-CheckpointChild $spec
        $writing = Wait-Condition -TimeoutSeconds 60 -Condition {
            $Child.HasExited -or ((Get-ChildItem -LiteralPath $cache -Filter 'segment-*.jsonl' -ErrorAction Ignore | Measure-Object Length -Sum).Sum -gt 200KB)
        }
        $writing | Should -BeTrue
        $Child.HasExited | Should -BeFalse -Because (Get-ChildOutput $spec.ResultPath)
        $Child.Kill()
        Wait-ChildExit $Child 15 | Should -BeTrue

        # On disk: every line that has its newline is a whole entry with a valid checksum.
        $segments = @(Get-ChildItem -LiteralPath $cache -Filter 'segment-*.jsonl')
        $segments | Should -HaveCount 1
        $store = [Checkpoint.Cache.CacheStore]::Open($cache)
        $store.TakeWarnings() | Should -BeNullOrEmpty
        $stored = $store.Count
        $stored | Should -BeGreaterThan 10
        $bytes = [System.IO.File]::ReadAllBytes($segments[0].FullName)
        $complete = @([System.Text.Encoding]::UTF8.GetString($bytes).Split("`n") | Select-Object -SkipLast 1)
        $complete.Count | Should -Be $stored
        foreach ($line in $complete) { $line | ConvertFrom-Json | Should -Not -BeNullOrEmpty }

        # The resume: only whole outputs (the block checks each), the stored calls taken from the cache.
        $jsonl = Get-RunFile $out '.jsonl'
        $summary = Resume-CheckpointRun -Path $jsonl -ThrottleLimit 4 -WarningVariable warned 3>$null
        $summary.Status | Should -Be 'Completed'
        $summary.CompletedSamples | Should -Be 400
        $summary.FailedSamples | Should -Be 0
        $summary.CacheHits | Should -BeGreaterThan 0
        @($warned | Where-Object { "$_" -match 'damaged|checksum' }) | Should -BeNullOrEmpty
        $store.Refresh()
        $store.Count | Should -Be 2000 -Because 'each of the 400 samples x 5 calls is stored once'
    }
}
