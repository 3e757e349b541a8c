BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $removeId = 'Checkpoint.Commands.RemoveCheckpointCommand'
}

Describe 'Remove-Checkpoint' {
    BeforeEach {
        # One completed run, one incomplete run (sharded, so it has two sets of files), and unrelated files.
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 6
        $done = Start-CheckpointRun $csv -Model done -OutputDirectory $out -MaxRetries 0 -CheckpointEvery 1 -Process { 'x' }
        $partA = Start-CheckpointRun $csv -Model partial -Shard 1/2 -Limit 1 -OutputDirectory $out -Process { 'y' }
        $partB = Start-CheckpointRun $csv -Model partial -Shard 2/2 -Limit 1 -OutputDirectory $out -Process { 'y' }
        $done.Status | Should -Be 'Completed'
        $partA.RunId | Should -Be $partB.RunId
        $partialId = $partA.RunId
        Write-TextFile (Join-Path $out 'notes.txt') 'keep me' | Out-Null
        Write-TextFile (Join-Path $out 'summary.jsonl') '{"keep":true}' | Out-Null
        Write-TextFile (Join-Path $out "$($done.RunId).bak") 'keep me too' | Out-Null
        # The run's files and its run id marker (the run id without its date, .runid).
        $doneFiles = @(Get-ChildItem $out -File | Where-Object { $_.Name -like "$($done.RunId).*" -or $_.Name -like "$($done.RunId)_*" -or $_.Name -eq "$($done.RunId.Substring(9)).runid" } |
                Where-Object Name -NE "$($done.RunId).bak").Name
        $doneFiles.Count | Should -Be 5
    }

    It 'deletes exactly the completed run piped from Get-CheckpointStats | Where-Object Status -eq Completed' {
        $others = @(Get-ChildItem $out -File | Where-Object Name -NotIn $doneFiles).Name
        Get-CheckpointStats -OutputDirectory $out | Where-Object Status -EQ Completed | Remove-Checkpoint -Confirm:$false
        @(Get-ChildItem $out -File).Name | Sort-Object | Should -Be ($others | Sort-Object)
        $others | Should -Contain 'notes.txt'
        $others | Should -Contain "$($done.RunId).bak"
        $others | Should -Contain "$($partialId)_shard-2-of-2.jsonl"
        (Get-CheckpointStats -OutputDirectory $out).RunId | Should -Be $partialId
    }

    It 'deletes nothing with -WhatIf' {
        $before = Get-FileHashTable $out
        Remove-Checkpoint -RunId '*' -OutputDirectory $out -WhatIf
        Remove-Checkpoint -RunId $done.RunId -OutputDirectory $out -Force -WhatIf
        $after = Get-FileHashTable $out
        $after.Keys | Should -Be $before.Keys
        foreach ($name in $before.Keys) { $after[$name] | Should -Be $before[$name] -Because $name }
    }

    It 'deletes a run without asking with -Force' {
        Remove-Checkpoint -RunId $done.RunId -OutputDirectory $out -Force
        foreach ($name in $doneFiles) { Test-Path (Join-Path $out $name) | Should -BeFalse -Because $name }
        Test-Path (Join-Path $out "$($done.RunId).bak") | Should -BeTrue
    }

    It "deletes every run's files, shards included, with -RunId '*' and leaves unrelated files" {
        Remove-Checkpoint -RunId '*' -OutputDirectory $out -Confirm:$false
        @(Get-ChildItem $out -File -Force).Name | Sort-Object | Should -Be (@('notes.txt', 'summary.jsonl', "$($done.RunId).bak") | Sort-Object)
        Get-CheckpointStats -OutputDirectory $out | Should -BeNullOrEmpty
        Get-FileTree $dir | Should -Be @('data.csv', 'out', "out/$($done.RunId).bak", 'out/notes.txt', 'out/summary.jsonl')
    }

    It 'leaves a file that is only named like a run: it is listed as no run and never deleted' {
        # A user's own results, named as runs are, but with no state file and no checksummed record.
        $lookalike = Write-TextFile (Join-Path $out '20250101_my_results_deadbeef.jsonl') "{`"answer`":1}`n{`"answer`":2}`n"
        $notJson = Write-TextFile (Join-Path $out '20250101_other_results_deadbeef.jsonl') "not json at all`n"

        (Get-CheckpointStats -OutputDirectory $out).RunId | Sort-Object | Should -Be (@($done.RunId, $partialId) | Sort-Object)
        Remove-Checkpoint -RunId '*' -OutputDirectory $out -Confirm:$false
        { Get-CheckpointResult -Path $lookalike -ErrorAction Stop } | Should -Throw -ErrorId 'NotACheckpointFile,Checkpoint.Commands.GetCheckpointResultCommand'

        [IO.File]::ReadAllText($lookalike) | Should -BeExactly "{`"answer`":1}`n{`"answer`":2}`n"
        Test-Path $notJson | Should -BeTrue
        foreach ($name in $doneFiles) { Test-Path (Join-Path $out $name) | Should -BeFalse -Because $name }
    }

    It "deletes nothing outside the directory with -RunId '<RunId>'" -TestCases @(
        @{ RunId = '../*' }
        @{ RunId = '..' }
        @{ RunId = '../../*' }
        @{ RunId = '..\*' }
    ) {
        # A run in the parent of the output directory, which '../*' would name if paths were joined blindly.
        $outside = Start-CheckpointRun $csv -Model outside -OutputDirectory $dir -Process { 'z' }
        $treeBefore = Get-FileTree $dir
        $parentBefore = Get-FileHashTable $dir
        $errors = $null
        Remove-Checkpoint -RunId $RunId -OutputDirectory $out -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable errors
        foreach ($e in @($errors)) { $e.FullyQualifiedErrorId | Should -Be "RunNotFound,$removeId" }
        Get-FileTree $dir | Should -Be $treeBefore
        $parentAfter = Get-FileHashTable $dir
        foreach ($name in $parentBefore.Keys) { $parentAfter[$name] | Should -Be $parentBefore[$name] -Because $name }
        Test-Path $outside.Path | Should -BeTrue
    }

    It "writes RunNotFound for -RunId '..'" {
        { Remove-Checkpoint -RunId '..' -OutputDirectory $out -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId "RunNotFound,$removeId"
    }

    It "deletes a run's damaged-tail sidecar too, and not a file that only starts with its id" {
        [IO.File]::AppendAllText($done.Path, '{"v":1,"sample_id":"q9","sta')
        $again = Start-CheckpointRun $csv -Model done -OutputDirectory $out -Process { 'x' } -WarningAction SilentlyContinue
        $again.RunId | Should -Be $done.RunId
        @(Get-ChildItem $out -Filter "$($done.RunId).jsonl.damaged-*").Count | Should -Be 1
        Remove-Checkpoint -RunId $done.RunId -OutputDirectory $out -Confirm:$false
        @(Get-ChildItem $out -Force | Where-Object Name -Like "$($done.RunId)*").Name | Should -Be @("$($done.RunId).bak")
    }

    It 'deletes the run whose -Path is given' {
        Remove-Checkpoint -Path $done.Path -Confirm:$false
        foreach ($name in $doneFiles) { Test-Path (Join-Path $out $name) | Should -BeFalse -Because $name }
        (Get-CheckpointStats -OutputDirectory $out).RunId | Should -Be $partialId
    }
}

Describe 'A run held by another live process' {
    BeforeAll {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 2
        $module = (Resolve-Path $env:CHECKPOINT_TEST_MODULE).ProviderPath
        # The real pwsh executable (under the dotnet tool, $PSHOME is the tool's folder, which holds it too).
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $childScript = @"
Import-Module '$($module.Replace("'", "''"))'
Start-CheckpointRun -Dataset '$($csv.Replace("'", "''"))' -OutputDirectory '$($out.Replace("'", "''"))' -Process { Start-Sleep -Seconds 60 } | Out-Null
"@
        $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($childScript))
        $child = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        # Held once its lease and its state file are there: a run is listed from its state file on.
        while (-not ((Get-ChildItem $out -Filter '*.lock.json' -ErrorAction SilentlyContinue) -and (Get-ChildItem $out -Filter '*_resume_state.json' -ErrorAction SilentlyContinue)) -and -not $child.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 100
        }
        $lockInfo = Get-ChildItem $out -Filter '*.lock.json' -ErrorAction SilentlyContinue
        $runId = if ($lockInfo) { $lockInfo.Name.Substring(0, $lockInfo.Name.Length - '.lock.json'.Length) } else { $null }
    }

    AfterAll {
        if ($child) {
            Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
            Stop-ChildProcess $child
        }
    }

    It 'has the child process holding the run' {
        $child.HasExited | Should -BeFalse
        $runId | Should -Match '^\d{8}_data_default_[0-9a-f]{8}$'
        (Get-Content (Join-Path $out "$runId.lock.json") -Raw | ConvertFrom-Json).pid | Should -Be $child.Id
    }

    It 'is refused by Remove-Checkpoint with RunLocked, and no file is deleted' {
        $before = @(Get-ChildItem $out -Force).Name
        { Remove-Checkpoint -RunId $runId -OutputDirectory $out -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId "RunLocked,$removeId"
        # The error names the holder.
        $caught = $null
        try { Remove-Checkpoint -RunId $runId -OutputDirectory $out -Confirm:$false -ErrorAction Stop } catch { $caught = $_ }
        $caught.Exception.Message | Should -Match "\b$($child.Id)\b"
        @(Get-ChildItem $out -Force).Name | Should -Be $before
        $before | Should -Contain "$runId.jsonl"
        $before | Should -Contain "$runId.lock"
    }

    It 'is refused by Start-CheckpointRun with RunLocked, without calling the block' {
        $calls = [System.Collections.Generic.List[string]]::new()
        { Start-CheckpointRun $csv -OutputDirectory $out -Process { $calls.Add($_.id) } -ErrorAction Stop } |
            Should -Throw -ErrorId 'RunLocked,Checkpoint.Commands.StartCheckpointRunCommand'
        $calls.Count | Should -Be 0
    }

    It 'is shown as Running by Get-CheckpointStats' {
        (Get-CheckpointStats -RunId $runId -OutputDirectory $out).Status | Should -Be 'Running'
    }

    It 'can be removed once the holder is gone' {
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit(10000) | Should -BeTrue
        Remove-Checkpoint -RunId $runId -OutputDirectory $out -Confirm:$false
        @(Get-ChildItem $out -Force | Where-Object Name -Like "$runId*").Count | Should -Be 0
    }
}
