<#
    One run on a shared file system written from two "nodes": one directory mounted twice with bindfs (FUSE),
    so that a flock through one mount is not seen through the other, as between two NFS clients with
    local_lock=flock. After each case the bytes on disk are checked: every line's checksum holds, every sample
    has exactly one completed record, and no damaged sidecar was made.
    Skipped, with the reason, when this is not Linux, not root, or has no /dev/fuse; on CI bindfs must install.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:SkipReason = $null
    $script:Mounts = @()
    $script:Children = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    if (-not $IsLinux) { $script:SkipReason = 'needs Linux (FUSE)' }
    elseif ((& id -u) -ne '0') { $script:SkipReason = 'needs root (to install bindfs and mount)' }
    elseif (-not (Test-Path /dev/fuse)) { $script:SkipReason = 'needs /dev/fuse' }
    if ($SkipReason) { return }

    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ('checkpoint-cluster-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory -Path $Work | Out-Null
    $said = & bash (Join-Path $PSScriptRoot '../Cluster/install-bindfs.sh') (Join-Path $Work 'apt.log') 2>&1
    if ($LASTEXITCODE -ne 0) {
        if ($env:CI) { throw "bindfs could not be installed: $(@($said)[-1])" }
        $script:SkipReason = "bindfs is missing and could not be installed: $(@($said)[-1])"
        return
    }

    $script:Module = Copy-ModuleSnapshot (Join-Path $Work 'module')
    $script:Shared = Join-Path $Work 'shared'
    $script:NodeA = Join-Path $Work 'node-a'
    $script:NodeB = Join-Path $Work 'node-b'
    $script:ReadOnly = Join-Path $Work 'read-only'
    New-Item -ItemType Directory -Path $Shared, $NodeA, $NodeB, $ReadOnly | Out-Null
    foreach ($mount in @{ Path = $NodeA; Options = @() }, @{ Path = $NodeB; Options = @() }, @{ Path = $ReadOnly; Options = @('-o', 'ro') }) {
        $options = $mount.Options
        & bindfs @options $Shared $mount.Path 2>&1 | Write-Host
        if ($LASTEXITCODE -ne 0) { throw "bindfs could not mount '$($mount.Path)'." }
        $script:Mounts += $mount.Path
    }

    $script:Data = Join-Path $Work 'study.csv'
    1..160 | ForEach-Object { [pscustomobject]@{ id = "q$_"; answer = "#### $_" } } | Export-Csv $Data -NoTypeInformation
    # The samples of shard 2/4 of that dataset.
    $script:ShardTwo = @(1..160 | ForEach-Object { "q$_" } | Where-Object { [Checkpoint.Sharding.ShardMembership]::IndexOf($_, 4) -eq 1 })

    function script:Start-Node {
        # A child pwsh (the real executable) that runs shard 2/4 through $Mount, each sample taking $SleepMs.
        param([string] $Mount, [string] $Name, [int] $SleepMs = 100, [hashtable] $Environment = @{})
        $result = Join-Path $Work "$Name.out"
        $script = @"
Import-Module '$Module'
try {
    `$summary = Start-CheckpointRun -Dataset '$Data' -Model cluster -OutputDirectory '$Mount' -Shard 2/4 -Process { Start-Sleep -Milliseconds $SleepMs; `$_.answer } -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop
    foreach (`$w in `$warned) { "WARNING: `$w" }
    "STATUS: `$(`$summary.Status)"
    exit 0
}
catch {
    "ERROR: `$(`$_.FullyQualifiedErrorId): `$(`$_.Exception.Message)"
    exit 3
}
"@
        $file = Join-Path $Work "$Name.ps1"
        Set-Content -LiteralPath $file -Value $script
        $saved = @{}
        foreach ($key in $Environment.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $Environment[$key]) }
        try {
            $process = Start-Process -FilePath (Get-PwshPath) -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -RedirectStandardOutput $result -RedirectStandardError "$result.err" -PassThru
        }
        finally {
            foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
        }
        $Children.Add($process)
        [pscustomobject]@{ Process = $process; Output = $result }
    }

    function script:Get-NodeOutput([object] $Node) {
        ((Get-Content -LiteralPath $Node.Output -Raw -ErrorAction Ignore) ?? '') + ((Get-Content -LiteralPath "$($Node.Output).err" -Raw -ErrorAction Ignore) ?? '')
    }

    function script:Wait-Lines([string] $Path, [int] $Count, [double] $TimeoutSeconds = 60) {
        Wait-Condition -TimeoutSeconds $TimeoutSeconds -IntervalMilliseconds 50 -Condition {
            (Test-Path -LiteralPath $Path) -and @([System.IO.File]::ReadAllLines($Path)).Count -ge $Count
        }
    }

    function script:Clear-Shared {
        Get-ChildItem -LiteralPath $Shared -Force | Remove-Item -Recurse -Force
    }

    function script:Assert-WholeRun {
        # Every line of every JSONL checks, each of $Expected has exactly one completed record, nothing else
        # has one, and no damaged sidecar exists.
        param([string[]] $Expected)
        $records = @()
        foreach ($file in @(Get-ChildItem -LiteralPath $Shared -Filter '*.jsonl' -File)) {
            $read = Read-CheckpointFile $file.FullName
            $read.Problems | Should -BeNullOrEmpty -Because "every line of $($file.Name) is whole and checks"
            $records += $read.Records
        }
        $completed = Get-CompletedCount -Records $records
        @($completed.Keys | Sort-Object) | Should -Be @($Expected | Sort-Object)
        @($completed.Values | Where-Object { $_ -ne 1 }) | Should -BeNullOrEmpty -Because 'no sample is paid for twice'
        @(Get-ChildItem -LiteralPath $Shared -Filter '*.damaged-*') | Should -BeNullOrEmpty
    }
}

AfterAll {
    foreach ($child in $Children) { Stop-ChildProcess $child }
    foreach ($mount in $Mounts) {
        & fusermount -u $mount 2>&1 | Out-Null
        if ($LASTEXITCODE -ne 0) { & fusermount -uz $mount 2>&1 | Out-Null }
    }
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Two nodes writing one shard through two mounts' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason; return }
        Clear-Shared
    }

    It 'refuses a second process starting the same shard through the other mount while the first writes' {
        $first = Start-Node -Mount $NodeA -Name 'first'
        Wait-RunStarted $first.Process $NodeA | Should -BeTrue -Because (Get-NodeOutput $first)
        Wait-Lines (Join-Path $Shared ((Get-ChildItem $Shared -Filter '*_shard-2-of-4.lock.json').BaseName -replace '\.lock$', '.jsonl')) 3 | Should -BeTrue

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        { Start-CheckpointRun -Dataset $Data -Model cluster -OutputDirectory $NodeB -Shard 2/4 -Process { $_.answer } -ErrorAction Stop } |
            Should -Throw -ErrorId 'RunLocked,Checkpoint.Commands.StartCheckpointRunCommand'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20 -Because 'a live lease is refused without waiting it out'

        Wait-ChildExit $first.Process 120 | Should -BeTrue
        $first.Process.ExitCode | Should -Be 0 -Because (Get-NodeOutput $first)
        Assert-WholeRun $ShardTwo
    }

    It 'takes over the shard of a holder paused past its lease, and the holder then writes nothing more and ends with LeaseLost' {
        $lease = @{ CHECKPOINT_LEASE_SECONDS = '3' }
        $holder = Start-Node -Mount $NodeA -Name 'paused' -Environment $lease
        Wait-RunStarted $holder.Process $NodeA | Should -BeTrue -Because (Get-NodeOutput $holder)
        $jsonl = Join-Path $Shared ((Get-ChildItem $Shared -Filter '*_shard-2-of-4.lock.json').BaseName -replace '\.lock$', '.jsonl')
        Wait-Lines $jsonl 3 | Should -BeTrue
        & kill -STOP $holder.Process.Id
        try {
            # Past half the timeout the lease has missed a renewal; the taker then watches it for the whole timeout.
            Start-Sleep -Seconds 2
            $env:CHECKPOINT_LEASE_SECONDS = '3'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $summary = Start-CheckpointRun -Dataset $Data -Model cluster -OutputDirectory $NodeB -Shard 2/4 -Process { $_.answer } -WarningAction SilentlyContinue -ErrorAction Stop
            $clock.Elapsed.TotalSeconds | Should -BeGreaterThan 2.5 -Because 'the lease is taken over only once stale'
            $summary.Status | Should -Be 'Completed'
        }
        finally {
            Remove-Item Env:CHECKPOINT_LEASE_SECONDS -ErrorAction Ignore
            $after = [System.IO.File]::ReadAllBytes($jsonl)
            & kill -CONT $holder.Process.Id
        }

        Wait-ChildExit $holder.Process 60 | Should -BeTrue
        $holder.Process.ExitCode | Should -Be 3 -Because (Get-NodeOutput $holder)
        Get-NodeOutput $holder | Should -Match 'ERROR: LeaseLost,'
        [System.IO.File]::ReadAllBytes($jsonl) | Should -Be $after -Because 'the paused holder wrote nothing after it went on'
        Assert-WholeRun $ShardTwo
        (Get-CheckpointStats -OutputDirectory $Shared -PerShard).Status | Should -Be 'Completed'
    }

    It 'keeps one writer when a Remove through one mount races a start through the other, round after round' {
        $dataset = Join-Path $Work 'small.csv'
        1..8 | ForEach-Object { [pscustomobject]@{ id = "s$_"; answer = $_ } } | Export-Csv $dataset -NoTypeInformation
        # Thread jobs share this process, which has loaded the module under test from its own path.
        $modulePath = $env:CHECKPOINT_TEST_MODULE
        $outcomes = @{}
        foreach ($round in 1..24) {
            $jobs = @(
                Start-ThreadJob -ArgumentList $modulePath, $NodeA -ScriptBlock {
                    param($module, $out)
                    Import-Module $module
                    # Somewhere in the other job's start, its run or after it.
                    Start-Sleep -Milliseconds ([Random]::Shared.Next(0, 700))
                    try { Remove-Checkpoint -RunId * -OutputDirectory $out -Force -ErrorAction Stop -WarningAction SilentlyContinue; 'removed' } catch { "remove: $($_.FullyQualifiedErrorId)"; if ($_.FullyQualifiedErrorId -notlike 'RunLocked,*') { Write-Host $_.Exception.ToString() } }
                }
                Start-ThreadJob -ArgumentList $modulePath, $NodeB, $dataset -ScriptBlock {
                    param($module, $out, $data)
                    Import-Module $module
                    try { (Start-CheckpointRun -Dataset $data -Model race -OutputDirectory $out -Process { Start-Sleep -Milliseconds 20; $_.answer } -ErrorAction Stop -WarningAction SilentlyContinue).Status } catch { "start: $($_.FullyQualifiedErrorId)"; if ($_.FullyQualifiedErrorId -notlike 'RunLocked,*') { Write-Host $_.Exception.ToString() } }
                }
            )
            $said = @($jobs | Wait-Job -Timeout 120 | Receive-Job)
            $jobs | Remove-Job -Force
            $said = @($said | Where-Object { $_ -is [string] })
            $said | Should -HaveCount 2
            foreach ($line in $said) {
                $line | Should -BeIn @('removed', 'Completed', 'remove: RunLocked,Checkpoint.Commands.RemoveCheckpointCommand', 'start: RunLocked,Checkpoint.Commands.StartCheckpointRunCommand') -Because "round $round"
                $outcomes[$line] = 1 + ($outcomes[$line] ?? 0)
            }

            $jsonl = @(Get-ChildItem -LiteralPath $Shared -Filter '*.jsonl')
            $state = @(Get-ChildItem -LiteralPath $Shared -Filter '*_resume_state.json')
            if ($state.Count -gt 0) {
                $jsonl | Should -HaveCount 1 -Because "round ${round}: a state file never outlives its results"
            }
            if ($jsonl.Count -gt 0) {
                Assert-WholeRun @(1..8 | ForEach-Object { "s$_" })
            }
        }
        Write-Host ("Outcomes of 24 rounds: " + (($outcomes.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Name) x$($_.Value)" }) -join '; '))
    }

    It 'warns once that the lease alone guards the run where the OS lock does nothing, and still refuses a second writer' {
        $off = @{ DOTNET_SYSTEM_IO_DISABLEFILELOCKING = '1' }
        $first = Start-Node -Mount $NodeA -Name 'nolock-first' -Environment $off
        Wait-RunStarted $first.Process $NodeA | Should -BeTrue -Because (Get-NodeOutput $first)
        $second = Start-Node -Mount $NodeA -Name 'nolock-second' -Environment $off -SleepMs 0
        Wait-ChildExit $second.Process 60 | Should -BeTrue
        Get-NodeOutput $second | Should -Match 'ERROR: RunLocked,'
        Wait-ChildExit $first.Process 120 | Should -BeTrue
        $first.Process.ExitCode | Should -Be 0 -Because (Get-NodeOutput $first)
        $warnings = @((Get-NodeOutput $first) -split "`n" | Where-Object { $_ -match '^WARNING: The OS lock .* has no effect here' })
        $warnings | Should -HaveCount 1
        Assert-WholeRun $ShardTwo
    }
}

Describe 'Readers on a shared file system' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason; return }
        Clear-Shared
    }

    It 'reads stats and results through a read-only mount, and sees a live run as Running there' {
        $node = Start-Node -Mount $NodeA -Name 'watched' -SleepMs 100
        Wait-RunStarted $node.Process $NodeA | Should -BeTrue -Because (Get-NodeOutput $node)
        Wait-Lines (Join-Path $Shared ((Get-ChildItem $Shared -Filter '*_shard-2-of-4.lock.json').BaseName -replace '\.lock$', '.jsonl')) 3 | Should -BeTrue
        (Get-CheckpointStats -OutputDirectory $ReadOnly -ErrorAction Stop).Status | Should -Be 'Running'
        Wait-ChildExit $node.Process 120 | Should -BeTrue
        $before = Get-ChildItem -LiteralPath $Shared | ForEach-Object { "$($_.Name) $($_.Length) $($_.LastWriteTimeUtc.Ticks)" }

        $stats = Get-CheckpointStats -OutputDirectory $ReadOnly -PerShard -ErrorAction Stop
        $stats.Status | Should -Be 'Completed'
        $stats.CompletedSamples | Should -Be $ShardTwo.Count
        @(Get-CheckpointResult -OutputDirectory $ReadOnly -RunId $stats.RunId -ErrorAction Stop) | Should -HaveCount $ShardTwo.Count
        Get-ChildItem -LiteralPath $Shared | ForEach-Object { "$($_.Name) $($_.Length) $($_.LastWriteTimeUtc.Ticks)" } | Should -Be $before
    }

    It 'never refuses a start that races a tight loop of Get-CheckpointStats' {
        $dataset = Join-Path $Work 'polled.csv'
        1..5 | ForEach-Object { [pscustomobject]@{ id = "p$_"; answer = $_ } } | Export-Csv $dataset -NoTypeInformation
        Start-CheckpointRun -Dataset $dataset -Model polled -OutputDirectory $Shared -Process { $_.answer } | Out-Null
        $stop = Join-Path $Work 'stop-polling'
        Remove-Item -LiteralPath $stop -ErrorAction Ignore
        $pollers = 1..2 | ForEach-Object {
            Start-ThreadJob -ArgumentList $env:CHECKPOINT_TEST_MODULE, $Shared, $stop -ScriptBlock {
                param($module, $out, $stop)
                Import-Module $module
                $n = 0
                while (-not (Test-Path -LiteralPath $stop) -and $n -lt 100000) { Get-CheckpointStats -OutputDirectory $out -WarningAction SilentlyContinue | Out-Null; $n++ }
                $n
            }
        }
        try {
            $refused = 0
            foreach ($i in 1..60) {
                try { Start-CheckpointRun -Dataset $dataset -Model polled -OutputDirectory $Shared -Process { $_.answer } -ErrorAction Stop | Out-Null }
                catch { if ($_.FullyQualifiedErrorId -like 'RunLocked,*') { $refused++ } else { throw } }
            }
        }
        finally {
            Set-Content -LiteralPath $stop -Value 'stop'
            $polls = @($pollers | Wait-Job -Timeout 60 | Receive-Job)
            $pollers | Remove-Job -Force
        }
        ($polls | Measure-Object -Sum).Sum | Should -BeGreaterThan 60 -Because 'the stats loop ran while the starts did'
        $refused | Should -Be 0
    }
}
