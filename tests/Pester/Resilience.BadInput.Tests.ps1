<#
    Bad surroundings: an output directory the user cannot write, a dataset the user cannot read (both as the
    unprivileged user nobody, through setpriv or runuser), a full disk (a 1 MiB tmpfs), a checkpoint written by
    a newer format version, a lock left by a killed process, and a damaged state file. Each case checks the
    error id and the bytes on disk.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:Children = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $quickBlock = { [pscustomobject]@{ id = $_.id; n = [int]$_.n } }

    function New-NumberedCsv {
        param([Parameter(Mandatory)][string] $Path, [int] $Count = 5, [string] $Prefix = 'b')
        New-ResilienceCsv -Path $Path -Rows @(1..$Count | ForEach-Object { [ordered]@{ id = "$Prefix$_"; n = $_ } })
    }
}

AfterAll {
    foreach ($child in $script:Children) { Stop-ChildProcess $child }
}

Describe 'Permissions, as the unprivileged user nobody' {
    BeforeAll {
        # Everything the child needs must be reachable by nobody: pwsh, the module, the child script, the spec.
        $skipReason = $null
        $shared = Join-Path $TestDrive 'nobody'
        $nobodyHome = Join-Path $shared 'home'
        New-Item -ItemType Directory -Path $nobodyHome -Force | Out-Null
        & chmod a+rx $TestDrive
        & chmod -R a+rwx $shared
        $prefix = $null
        $pwsh = $null
        if ((& id -u) -ne '0') { $skipReason = 'the tests do not run as root, so they cannot switch to the user nobody' }
        else {
            $switchers = @(
                @{ Tool = 'setpriv'; Args = @('--reuid=65534', '--regid=65534', '--clear-groups') }
                @{ Tool = 'runuser'; Args = @('-u', 'nobody', '--') }
            ) | Where-Object { Get-Command $_.Tool -CommandType Application -ErrorAction Ignore }
            $candidates = @(Get-PwshPath)
            $copied = $false
            foreach ($attempt in 1, 2) {
                foreach ($switcher in $switchers) {
                    foreach ($candidate in $candidates) {
                        $trial = @('env', "HOME=$nobodyHome") + @($switcher.Tool) + $switcher.Args + @($candidate, '-NoProfile', '-NonInteractive', '-Command', 'exit 42')
                        & $trial[0] @($trial | Select-Object -Skip 1) *> $null
                        if ($LASTEXITCODE -eq 42 -and -not $prefix) { $prefix = @('env', "HOME=$nobodyHome", $switcher.Tool) + $switcher.Args; $pwsh = $candidate }
                    }
                }
                if ($prefix -or $copied -or $switchers.Count -eq 0) { break }
                # pwsh may sit under a folder nobody cannot enter (/root): run a copy of it instead.
                $copy = Join-Path $shared 'pwsh'
                & cp -a $PSHOME $copy
                & chmod -R a+rX $copy
                $candidates = @(Join-Path $copy 'pwsh')
                $copied = $true
            }
            if ($switchers.Count -eq 0) { $skipReason = 'neither setpriv nor runuser is installed' }
            elseif (-not $prefix) { $skipReason = 'pwsh could not be started as nobody through setpriv or runuser' }
        }
        Write-Host "    [nobody] $(if ($skipReason) { "skipped: $skipReason" } else { "$($prefix[2]) with $pwsh" })"
        if (-not $skipReason) {
            $module = Join-Path $shared 'module/Checkpoint'
            New-Item -ItemType Directory -Path (Split-Path $module) -Force | Out-Null
            Copy-Item -Recurse $env:CHECKPOINT_TEST_MODULE $module
            $childScript = Join-Path $shared 'Invoke-CheckpointChild.ps1'
            Copy-Item (Join-Path $PSScriptRoot 'Resilience/Invoke-CheckpointChild.ps1') $childScript
            & chmod -R a+rX (Join-Path $shared 'module') $childScript
            $csv = New-NumberedCsv (Join-Path $shared 'data.csv')
            & chmod a+r $csv
        }

        function Invoke-AsNobody {
            # Runs Start-CheckpointRun in a child pwsh as nobody; returns its result.
            param([Parameter(Mandatory)][string] $Name, [Parameter(Mandatory)][string] $Dataset, [Parameter(Mandatory)][string] $OutputDirectory)
            $spec = [ordered]@{
                Module = $module; Command = 'Start'; Dataset = $Dataset; OutputDirectory = $OutputDirectory; Block = '$_.id'
                ResultPath = Join-Path $shared "$Name.json"; ChildScript = $childScript
            }
            $child = Start-CheckpointChild $spec -Pwsh $pwsh -Prefix $prefix
            $Children.Add($child)
            if (-not (Wait-ChildExit $child 60)) { Stop-ChildProcess $child; throw "The child running as nobody did not end within 60 s." }
            $result = Read-ChildResult $spec.ResultPath
            if (-not $result) { throw "The child running as nobody wrote no result:`n$(Get-ChildOutput $spec.ResultPath)" }
            return $result
        }
    }

    It 'stops with OutputDirectoryUnwritable, naming the directory, when the output directory is not writable' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $readOnly = Join-Path $TestDrive 'root-owned'
        New-Item -ItemType Directory -Path $readOnly | Out-Null
        & chmod 755 $readOnly
        $result = Invoke-AsNobody -Name 'unwritable' -Dataset $csv -OutputDirectory $readOnly
        $errorRecord = if ($result.Terminating) { $result.Terminating } else { @($result.Errors)[0] }
        $errorRecord.Id | Should -BeLike 'OutputDirectoryUnwritable*'
        $errorRecord.Message | Should -BeLike "*$readOnly*"
        $result.Summary | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $readOnly -Force) | Should -BeNullOrEmpty
    }

    It 'stops with OutputDirectoryUnwritable when the output directory cannot be created' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $parent = Join-Path $TestDrive 'root-owned-parent'
        New-Item -ItemType Directory -Path $parent | Out-Null
        & chmod 755 $parent
        $result = Invoke-AsNobody -Name 'uncreatable' -Dataset $csv -OutputDirectory (Join-Path $parent 'out')
        $errorRecord = if ($result.Terminating) { $result.Terminating } else { @($result.Errors)[0] }
        $errorRecord.Id | Should -BeLike 'OutputDirectoryUnwritable*'
        $errorRecord.Message | Should -BeLike "*$parent*"
        @(Get-ChildItem -LiteralPath $parent -Force) | Should -BeNullOrEmpty
    }

    It 'reports DatasetUnreadable, naming the file, for a dataset with mode 000, and writes no run file' {
        if ($skipReason) { Set-ItResult -Skipped -Because $skipReason; return }
        $secret = New-NumberedCsv (Join-Path $shared 'secret.csv')
        & chmod 000 $secret
        $out = Join-Path $shared 'out-unreadable'
        New-Item -ItemType Directory -Path $out | Out-Null
        & chmod 777 $out
        $result = Invoke-AsNobody -Name 'unreadable' -Dataset $secret -OutputDirectory $out
        $errorRecord = if ($result.Terminating) { $result.Terminating } else { @($result.Errors)[0] }
        $errorRecord | Should -Not -BeNullOrEmpty -Because (Get-ChildOutput (Join-Path $shared 'unreadable.json'))
        $errorRecord.Id | Should -BeLike 'DatasetUnreadable*'
        $errorRecord.Message | Should -BeLike "*$secret*"
        $result.Summary | Should -BeNullOrEmpty
        @(Get-ChildItem -LiteralPath $out -Force) | Should -BeNullOrEmpty
    }
}

Describe 'A full disk (a 1 MiB tmpfs)' {
    BeforeAll {
        $mountProblem = $null
        $mount = Join-Path $TestDrive 'full'
        New-Item -ItemType Directory -Path $mount | Out-Null
        $mounted = $false
        if ((& id -u) -ne '0') { $mountProblem = 'the tests do not run as root, so they cannot mount a tmpfs' }
        else {
            $message = & mount -t tmpfs -o size=1m tmpfs $mount 2>&1
            if ($LASTEXITCODE -ne 0) { $mountProblem = "mount -t tmpfs failed: $message" } else { $mounted = $true }
        }
        if ($mounted) {
            $sampleCount = 30
            $csv = New-NumberedCsv (Join-Path $TestDrive 'full-data.csv') -Count $sampleCount -Prefix 'f'
            $out = Join-Path $mount 'out'
            $filler = Join-Path $mount 'filler.bin'
            [System.IO.File]::WriteAllBytes($filler, [byte[]]::new(600KB))
            # A sample this slow has its record written on its own, not batched with the next ones, so the disk
            # fills part way through the run and the records written before it stay, whatever the machine's load.
            $bigBlock = { Start-Sleep -Milliseconds 5; [pscustomobject]@{ id = $_.id; blob = 'x' * 20000 } }
            $fullError = $null
            try { $null = Start-CheckpointRun $csv -OutputDirectory $out -Process $bigBlock -ErrorAction Stop }
            catch { $fullError = $_ }
            $jsonl = Get-RunFile $out '.jsonl'
            $fileWhenFull = if ($jsonl) { Read-CheckpointFile $jsonl } else { $null }
            Remove-Item -LiteralPath $filler
            $resumeError = $null
            $resumed = $null
            try { $resumed = Resume-CheckpointRun -Path $jsonl -ErrorAction Stop } catch { $resumeError = $_ }
            $fileAfterResume = if ($jsonl) { Read-CheckpointFile $jsonl } else { $null }
            # The same at -ThrottleLimit 4 (worker threads), in a child process so that a hang is bounded.
            Remove-Item -LiteralPath $out -Recurse -Force
            [System.IO.File]::WriteAllBytes($filler, [byte[]]::new(600KB))
            $out4 = Join-Path $mount 'out4'
            $spec4 = [ordered]@{
                Module = $env:CHECKPOINT_TEST_MODULE; Command = 'Start'; Dataset = $csv; OutputDirectory = $out4
                Block = '[pscustomobject]@{ id = $_.id; blob = ''x'' * 20000 }'; Parameters = @{ ThrottleLimit = 4 }
                ResultPath = Join-Path $TestDrive 'full4.json'
            }
            $child4 = Start-CheckpointChild $spec4
            $Children.Add($child4)
            $exited4 = Wait-ChildExit $child4 40
            if (-not $exited4) { Stop-ChildProcess $child4 }
            $result4 = Read-ChildResult $spec4.ResultPath
            $output4 = Get-ChildOutput $spec4.ResultPath
            $jsonl4 = Get-RunFile $out4 '.jsonl'
            $file4 = if ($jsonl4) { Read-CheckpointFile $jsonl4 } else { $null }
            $kept = if ($fileWhenFull) { @($fileWhenFull.Records | Where-Object status -EQ 'completed').Count } else { 0 }
            Write-Host "    [disk full] $kept of $sampleCount kept; error: $($fullError.FullyQualifiedErrorId): $($fullError.Exception.Message)"
        }
        else { Write-Host "    [disk full] skipped: $mountProblem" }
    }

    AfterAll {
        if ($mounted) {
            & umount $mount 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) { & umount -l $mount 2>&1 | Out-Null }
        }
    }

    It 'stops the run with CheckpointWriteFailed, naming a path on the full disk' {
        if ($mountProblem) { Set-ItResult -Skipped -Because $mountProblem; return }
        $fullError | Should -Not -BeNullOrEmpty
        $fullError.FullyQualifiedErrorId | Should -BeLike 'CheckpointWriteFailed*'
        $fullError.Exception.Message | Should -BeLike "*$mount*"
    }

    It 'leaves only whole lines in the JSONL, every one parsed, some results kept' {
        if ($mountProblem) { Set-ItResult -Skipped -Because $mountProblem; return }
        $fileWhenFull | Should -Not -BeNullOrEmpty
        $fileWhenFull.Problems | Should -BeNullOrEmpty
        $fileWhenFull.EndsWithNewline | Should -BeTrue
        $done = @($fileWhenFull.Records | Where-Object status -EQ 'completed').Count
        $done | Should -BeGreaterThan 0
        $done | Should -BeLessThan $sampleCount
    }

    It 'stops the same way at -ThrottleLimit 4, in bounded time, with only whole lines' {
        if ($mountProblem) { Set-ItResult -Skipped -Because $mountProblem; return }
        $exited4 | Should -BeTrue -Because "the run must end within 40 s of filling the disk`n$output4"
        $result4.Terminating.Id | Should -BeLike 'CheckpointWriteFailed*' -Because $output4
        $result4.Terminating.Message | Should -BeLike "*$mount*"
        $file4 | Should -Not -BeNullOrEmpty
        $file4.Problems | Should -BeNullOrEmpty
    }

    It 'completes the run with a Resume once space is freed' {
        if ($mountProblem) { Set-ItResult -Skipped -Because $mountProblem; return }
        $resumeError | Should -BeNullOrEmpty
        $resumed.Status | Should -Be 'Completed'
        $fileAfterResume.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $fileAfterResume.Records
        foreach ($i in 1..$sampleCount) { $completed["f$i"] | Should -Be 1 -Because "sample f$i" }
        foreach ($r in $fileAfterResume.Records) { $r.output.blob.Length | Should -Be 20000 }
        # What was kept when the disk filled is still the start of the file.
        $fileAfterResume.Lines[0..($fileWhenFull.Lines.Count - 1)].Text | Should -Be $fileWhenFull.Lines.Text
    }
}

Describe 'A checkpoint written by a newer format version' {
    BeforeAll {
        $dir = Join-Path $TestDrive 'v2'
        $csv = New-NumberedCsv (Join-Path $dir 'data.csv') -Prefix 'v'
        $out = Join-Path $dir 'out'
        $first = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock
        $jsonl = $first.Path
        $original = @([System.IO.File]::ReadAllLines($jsonl))
        $rewritten = @($original | ForEach-Object { Set-RecordChecksum ($_ -replace '^\{"v":1,', '{"v":2,') })
        [System.IO.File]::WriteAllText($jsonl, (($rewritten -join "`n") + "`n"), [System.Text.UTF8Encoding]::new($false))
        $hashBefore = (Get-FileHash -LiteralPath $jsonl -Algorithm SHA256).Hash
        $lengthBefore = (Get-Item -LiteralPath $jsonl).Length
        $startOut = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock -ErrorVariable startErrors -ErrorAction SilentlyContinue
        $resumeOut = Resume-CheckpointRun -Path $jsonl -ErrorVariable resumeErrors -ErrorAction SilentlyContinue
    }

    It 'computes the same CRC-32C as the module (the hand-made records are valid)' {
        foreach ($line in $original) { Set-RecordChecksum $line | Should -BeExactly $line }
        (Read-CheckpointFile $jsonl).Problems | Should -BeNullOrEmpty
        @((Read-CheckpointFile $jsonl).Records.v | Select-Object -Unique) | Should -Be @(2)
    }

    It 'is refused by Start-CheckpointRun and Resume-CheckpointRun with NewerFormatVersion' {
        $startOut | Should -BeNullOrEmpty
        @($startErrors).Count | Should -BeGreaterThan 0
        $startErrors[0].FullyQualifiedErrorId | Should -BeLike 'NewerFormatVersion*'
        $resumeOut | Should -BeNullOrEmpty
        @($resumeErrors).Count | Should -BeGreaterThan 0
        $resumeErrors[0].FullyQualifiedErrorId | Should -BeLike 'NewerFormatVersion*'
    }

    It 'leaves the file byte for byte as it was, with no sidecar' {
        (Get-Item -LiteralPath $jsonl).Length | Should -Be $lengthBefore
        (Get-FileHash -LiteralPath $jsonl -Algorithm SHA256).Hash | Should -Be $hashBefore
        @(Get-ChildItem -LiteralPath $out -Filter '*.damaged-*') | Should -BeNullOrEmpty
    }
}

Describe 'A lock left by a killed process' {
    BeforeAll {
        $dir = Join-Path $TestDrive 'lock'
        $csv = New-NumberedCsv (Join-Path $dir 'data.csv') -Count 3 -Prefix 'l'
        $out = Join-Path $dir 'out'
        $spec = [ordered]@{
            Module = $env:CHECKPOINT_TEST_MODULE; Command = 'Start'; Dataset = $csv; OutputDirectory = $out; Block = 'Start-Sleep -Seconds 60; $_.id'
            ResultPath = Join-Path $dir 'holder.json'
        }
        $holder = Start-CheckpointChild $spec
        $Children.Add($holder)
        $holding = Wait-RunStarted $holder $out -TimeoutSeconds 40
        $whileHeld = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock -ErrorVariable heldErrors -ErrorAction SilentlyContinue
        Stop-ChildProcess $holder
        $after = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock -ErrorVariable afterErrors -ErrorAction SilentlyContinue
    }

    It 'is a real lock while its holder lives (RunLocked)' {
        $holding | Should -BeTrue -Because (Get-ChildOutput $spec.ResultPath)
        $whileHeld | Should -BeNullOrEmpty
        @($heldErrors).Count | Should -BeGreaterThan 0
        $heldErrors[0].FullyQualifiedErrorId | Should -BeLike 'RunLocked*'
    }

    It 'does not block a new start once its holder was killed with SIGKILL' {
        $holder.HasExited | Should -BeTrue
        @($afterErrors) | Should -BeNullOrEmpty
        $after.Status | Should -Be 'Completed'
        $file = Read-CheckpointFile $after.Path
        $file.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $file.Records
        foreach ($id in 'l1', 'l2', 'l3') { $completed[$id] | Should -Be 1 }
    }
}

Describe 'A damaged state file' {
    BeforeAll {
        $dir = Join-Path $TestDrive 'state'
        $csv = New-NumberedCsv (Join-Path $dir 'data.csv') -Count 10 -Prefix 's'
        $out = Join-Path $dir 'out'
        $first = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock -Limit 5
        $keptBytes = [System.IO.File]::ReadAllBytes($first.Path)
        $statePath = Get-RunFile $out '_resume_state.json'
        [System.IO.File]::WriteAllText($statePath, "{ `"format_version`": 1, garbage `0`0 not json")
        $second = Start-CheckpointRun $csv -OutputDirectory $out -Process $quickBlock -WarningVariable stateWarnings -WarningAction SilentlyContinue -ErrorVariable stateErrors -ErrorAction SilentlyContinue
    }

    It 'warns that the state was rebuilt' {
        $first.CompletedSamples | Should -Be 5
        @($stateWarnings | Where-Object { "$_" -match 'rebuilt' }).Count | Should -Be 1 -Because (@($stateWarnings) -join "`n")
        @($stateErrors) | Should -BeNullOrEmpty
    }

    It 'goes on with every result kept' {
        $second.Status | Should -Be 'Completed'
        $second.SkippedThisRun | Should -Be 5
        $second.ProcessedThisRun | Should -Be 5
        $bytes = [System.IO.File]::ReadAllBytes($second.Path)
        [System.Linq.Enumerable]::SequenceEqual([byte[]]$bytes[0..($keptBytes.Length - 1)], $keptBytes) | Should -BeTrue -Because 'the old records are the start of the file'
        $file = Read-CheckpointFile $second.Path
        $file.Problems | Should -BeNullOrEmpty
        $completed = Get-CompletedCount $file.Records
        foreach ($i in 1..10) { $completed["s$i"] | Should -Be 1 }
        ([System.IO.File]::ReadAllText($statePath) | ConvertFrom-Json).status | Should -Be 'Completed'
    }
}
