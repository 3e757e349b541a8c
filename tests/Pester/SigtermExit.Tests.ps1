# After a SIGTERM stop the process exits 143, so that schedulers count the task as stopped, not finished.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
}

Describe 'The exit code after SIGTERM' -Skip:(-not $IsLinux) {
    It 'is 143 once the run is closed as Interrupted' {
        $dir = Join-Path $TestDrive 'exit'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $data = Join-Path $dir 'data.csv'
        1..50 | ForEach-Object { [pscustomobject]@{ id = "s$_" } } | Export-Csv $data -NoTypeInformation
        $out = Join-Path $dir 'out'
        $script = Join-Path $dir 'child.ps1'
        Set-Content $script @"
Import-Module '$env:CHECKPOINT_TEST_MODULE'
Start-CheckpointRun -Dataset '$data' -OutputDirectory '$out' -Process { Start-Sleep -Milliseconds 300; `$_.id }
'finished'
"@
        $child = Start-Process -FilePath (Join-Path $PSHOME 'pwsh') -ArgumentList '-NoProfile', '-NonInteractive', '-File', $script -PassThru -RedirectStandardOutput (Join-Path $dir 'stdout.txt')
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not (Get-ChildItem $out -Filter *.jsonl -ErrorAction SilentlyContinue | Where-Object Length -GT 0) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            & kill -s TERM $child.Id
            $child.WaitForExit(10000) | Should -BeTrue
            $child.ExitCode | Should -Be 143
            (Get-Content (Get-ChildItem $out -Filter *_resume_state.json).FullName -Raw | ConvertFrom-Json).status | Should -Be 'Interrupted'
            Get-Content (Join-Path $dir 'stdout.txt') -Raw | Should -Not -Match 'finished'
        }
        finally {
            Stop-ChildProcess $child
        }
    }
}
