<#
    A run's state file keeps the -Process text that Resume-CheckpointRun runs. Anyone who can write the output
    directory can change it and recompute its CRC-32C; only the user's own key can sign it. Each test has a key
    file of its own (CHECKPOINT_KEY_FILE), and a marker file that an injected block would write.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
    $script:SavedKey = $env:CHECKPOINT_KEY_FILE
    $script:Utf8 = [System.Text.UTF8Encoding]::new($false)

    function script:New-SignedRun {
        # A run of 4 samples, 2 of them done, started with the key file $Key; returns its state file.
        param([string] $Key, [string] $Name = 'study')
        $env:CHECKPOINT_KEY_FILE = $Key
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        $csv = Join-Path $dir "$Name.csv"
        New-Item -ItemType Directory -Path $dir | Out-Null
        Set-Content -LiteralPath $csv -Value @('id,answer', 'a,1', 'b,2', 'c,3', 'd,4')
        $out = Join-Path $dir 'out'
        $summary = Start-CheckpointRun -Dataset $csv -OutputDirectory $out -Process { $_.answer } -Limit 2
        [pscustomobject]@{ Out = $out; RunId = $summary.RunId; State = Get-RunFile $out '_resume_state.json'; Marker = Join-Path $dir 'owned' }
    }

    function script:Set-StateChecksum {
        # What anyone can do: rewrite the state's CRC-32C after changing its content.
        param([string] $Path, [string] $Text)
        $cut = $Text.LastIndexOf('"checksum"')
        $body = $Text.Substring(0, $cut).TrimEnd().TrimEnd(',')
        $crc = (Get-Crc32C -Bytes $Utf8.GetBytes($body)).ToString('x8')
        [System.IO.File]::WriteAllText($Path, $body + ",`n  `"checksum`": `"$crc`"`n}`n", $Utf8)
    }

    function script:Set-StoredProcess {
        # Replaces the kept block with one that writes $Marker, and recomputes the CRC.
        param([object] $Run)
        $text = [System.IO.File]::ReadAllText($Run.State)
        # The state keeps a block's text without its braces, as ScriptBlock.ToString() gives it.
        $injected = ' Set-Content -LiteralPath ''' + $Run.Marker + ''' -Value owned; $_.answer '
        $json = ($injected | ConvertTo-Json)
        $changed = [regex]::Replace($text, '"process": "(?:[^"\\]|\\.)*"', { param($m) '"process": ' + $json })
        $changed | Should -Not -Be $text
        Set-StateChecksum $Run.State $changed
    }

    function script:New-Key([string] $Path) {
        New-Item -ItemType Directory -Path (Split-Path $Path) -Force | Out-Null
        [System.IO.File]::WriteAllBytes($Path, [byte[]](1..32 | ForEach-Object { Get-Random -Maximum 256 }))
        & chmod 600 $Path
        $Path
    }
}

AfterAll {
    $env:CHECKPOINT_KEY_FILE = $SavedKey
}

Describe 'A stored block changed by someone else' {
    BeforeEach {
        $run = New-SignedRun (Join-Path $TestDrive "keys/$([guid]::NewGuid().ToString('n'))/key")
        Set-StoredProcess $run
        $before = [System.IO.File]::ReadAllBytes($run.State)
        $jsonl = [System.IO.File]::ReadAllBytes((Get-RunFile $run.Out '.jsonl'))
    }

    It 'is refused by Resume-CheckpointRun with StoredProcessUntrusted, runs nothing and changes nothing' {
        { Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -ErrorAction Stop } |
            Should -Throw -ErrorId 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
        Test-Path -LiteralPath $run.Marker | Should -BeFalse
        [System.IO.File]::ReadAllBytes($run.State) | Should -Be $before
        [System.IO.File]::ReadAllBytes((Get-RunFile $run.Out '.jsonl')) | Should -Be $jsonl
    }

    It 'is refused by Resume-CheckpointRun -Latest the same way, with the way to go on in the message' {
        $caught = $null
        try { Resume-CheckpointRun -Latest -OutputDirectory $run.Out -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
        $caught.CategoryInfo.Category | Should -Be 'SecurityError'
        $caught.Exception.Message | Should -Match '-Process'
        $caught.Exception.Message | Should -Match '-TrustStoredProcess'
        Test-Path -LiteralPath $run.Marker | Should -BeFalse
    }

    It 'leaves stats, results and removal working' {
        (Get-CheckpointStats -RunId $run.RunId -OutputDirectory $run.Out).CompletedSamples | Should -Be 2
        @(Get-CheckpointResult -RunId $run.RunId -OutputDirectory $run.Out) | Should -HaveCount 2
        Remove-Checkpoint -RunId $run.RunId -OutputDirectory $run.Out -Confirm:$false
        @(Get-ChildItem -LiteralPath $run.Out -Filter "$($run.RunId)*") | Should -HaveCount 0
    }

    It 'runs -Process given anew, and signs it for the next resume' {
        $summary = Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -Process { $_.answer } -Limit 1
        $summary.CompletedSamples | Should -Be 3
        Test-Path -LiteralPath $run.Marker | Should -BeFalse
        (Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out).Status | Should -Be 'Completed'
    }

    It 'runs once trusted with -TrustStoredProcess, which signs it with the key' {
        Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -TrustStoredProcess -Confirm:$false -Limit 1 | Out-Null
        Test-Path -LiteralPath $run.Marker | Should -BeTrue
        Remove-Item -LiteralPath $run.Marker
        (Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out).Status | Should -Be 'Completed'
        Test-Path -LiteralPath $run.Marker | Should -BeTrue
    }

    It 'is not trusted under -WhatIf' {
        Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -TrustStoredProcess -WhatIf | Out-Null
        Test-Path -LiteralPath $run.Marker | Should -BeFalse
        [System.IO.File]::ReadAllBytes($run.State) | Should -Be $before
    }
}

Describe 'The key' {
    It 'is made on first use, readable by its owner alone' {
        $key = Join-Path $TestDrive 'fresh/checkpoint/key'
        $run = New-SignedRun $key
        Test-Path -LiteralPath $key | Should -BeTrue
        (Get-Item -LiteralPath $key).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        (Get-Item -LiteralPath $key).Length | Should -Be 32
        (Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out).Status | Should -Be 'Completed'
    }

    It 'of another user refuses a block signed with this one' {
        $run = New-SignedRun (New-Key (Join-Path $TestDrive 'alice/key'))
        $env:CHECKPOINT_KEY_FILE = New-Key (Join-Path $TestDrive 'bob/key')
        { Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -ErrorAction Stop } |
            Should -Throw -ErrorId 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
    }

    It 'readable by others is refused, with the reason' {
        $key = New-Key (Join-Path $TestDrive 'open/key')
        $run = New-SignedRun $key
        & chmod 644 $key
        $caught = $null
        try { Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
        $caught.Exception.Message | Should -Match '0644'
    }

    It 'that is missing refuses the stored block rather than making a new key that could not have signed it' {
        $key = New-Key (Join-Path $TestDrive 'lost/key')
        $run = New-SignedRun $key
        Remove-Item -LiteralPath $key
        { Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -ErrorAction Stop } |
            Should -Throw -ErrorId 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
        Test-Path -LiteralPath $key | Should -BeFalse
    }
}

Describe 'A state file of the release before signing (no signature)' {
    BeforeAll {
        $key = New-Key (Join-Path $TestDrive 'old/key')
        $run = New-SignedRun $key
        $text = [System.IO.File]::ReadAllText($run.State)
        $unsigned = [regex]::Replace($text, ',\s*"process_mac": "[0-9a-f]+"', '')
        $unsigned | Should -Not -Be $text
        Set-StateChecksum $run.State $unsigned
    }

    It 'reads as it is: stats work' {
        (Get-CheckpointStats -RunId $run.RunId -OutputDirectory $run.Out).CompletedSamples | Should -Be 2
    }

    It 'is refused for its block alone, saying it has no signature; -Process given anew runs' {
        $caught = $null
        try { Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -Be 'StoredProcessUntrusted,Checkpoint.Commands.ResumeCheckpointRunCommand'
        $caught.Exception.Message | Should -Match 'not signed'
        (Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -Process { $_.answer }).Status | Should -Be 'Completed'
    }
}

Describe 'A state file others may write' {
    It 'warns when the group or others may write it, and still runs a block signed with the key' {
        $run = New-SignedRun (New-Key (Join-Path $TestDrive 'warn/key'))
        & chmod 666 $run.State
        $summary = Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out -WarningVariable warned -WarningAction SilentlyContinue
        $summary.Status | Should -Be 'Completed'
        ($warned -join "`n") | Should -Match 'writable by'
    }
}

Describe 'The same key on a second node' {
    # A second mount of the key's folder (bindfs, as the cluster tests use) stands for another node that
    # shares the key file: what one node signed, the other runs.
    BeforeAll {
        $script:KeyMount = $null
        $script:Skip = if (-not $IsLinux -or (& id -u) -ne '0' -or -not (Test-Path /dev/fuse)) { 'needs Linux, root and /dev/fuse to mount the key folder a second time' }
        if (-not $Skip) {
            $said = & bash (Join-Path $PSScriptRoot '../Cluster/install-bindfs.sh') (Join-Path $TestDrive 'apt.log') 2>&1
            if ($LASTEXITCODE -ne 0) { throw "bindfs could not be installed: $(@($said)[-1])" }
        }
    }

    AfterAll {
        if ($KeyMount) {
            & fusermount -u $KeyMount 2>&1 | Out-Null
            if ($LASTEXITCODE -ne 0) { & fusermount -uz $KeyMount 2>&1 | Out-Null }
        }
    }

    It 'runs a block signed through the other mount' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $key = New-Key (Join-Path $TestDrive 'node-a/keys/key')
        $run = New-SignedRun $key
        $script:KeyMount = Join-Path $TestDrive 'node-b-keys'
        New-Item -ItemType Directory -Path $KeyMount | Out-Null
        & bindfs (Split-Path $key) $KeyMount
        $LASTEXITCODE | Should -Be 0
        $env:CHECKPOINT_KEY_FILE = Join-Path $KeyMount 'key'
        (Resume-CheckpointRun -RunId $run.RunId -OutputDirectory $run.Out).Status | Should -Be 'Completed'
    }
}
