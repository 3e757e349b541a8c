<#
    A real scheduler: installs Debian's Slurm when it is missing (tests/Slurm/install-slurm.sh), starts a
    one-node cluster in a folder the test owns (tests/Slurm/start-cluster.sh), submits the shipped example
    examples/slurm/run-array.sbatch as --array=1-4 (-Shard auto), and checks the merged result through the
    module: four shard files, one completed run over 1/4..4/4, every sample once with the right answer. A sparse
    --array=1,3,5 must fail in every task with ShardAutoFailed and write nothing. A long run whose batch shell
    Slurm signals (what the example's --signal=B:TERM@60 does) must stop cleanly as Interrupted. The cluster's
    daemons are stopped by PID (tests/Slurm/stop-cluster.sh), also when a step fails.

    Skipped, with the reason, when this is not Linux, not root, has no apt-get, or Slurm cannot be installed;
    a cluster that does not start, or a job with a wrong result, fails.
#>
BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:SlurmScripts = Join-Path $RepoRoot 'tests/Slurm'
    $script:Sbatch = Join-Path $RepoRoot 'examples/slurm/run-array.sbatch'
    $script:SkipReason = $null
    $script:SetupError = $null
    $script:SetupReported = $false
    $script:Work = $null
    $script:ClusterDir = $null
    $script:Timings = [ordered]@{}

    function Invoke-Slurm {
        # A Slurm client command against the test cluster (SLURM_CONF is given to that command only, never to
        # this session, so that stop-cluster.sh can tell the cluster's processes by it). Throws when it fails.
        param([Parameter(Mandatory)][string] $Command, [string[]] $ArgumentList = @())
        $output = & timeout 30 env "SLURM_CONF=$(Join-Path $ClusterDir 'slurm.conf')" $Command @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "'$Command $($ArgumentList -join ' ')' failed with exit code ${LASTEXITCODE}: $($output -join "`n")" }
        return $output
    }

    function Submit-ArrayJob {
        # Submits the shipped example as an array job; returns the job id.
        param([string] $Array, [string] $StudyDir, [string] $Dataset, [string] $OutputDir)
        $export = 'ALL', "STUDY_DIR=$StudyDir", "DATASET=$Dataset", "OUTPUT_DIR=$OutputDir",
        "CHECKPOINT_MODULE=$env:CHECKPOINT_TEST_MODULE", "PWSH=$(Join-Path $PSHOME 'pwsh')", 'MODEL=slurm-test'
        $id = Invoke-Slurm sbatch @('--parsable', "--array=$Array", "--chdir=$StudyDir", "--export=$($export -join ',')", $Sbatch)
        return ([string]$id).Trim().Split(';')[0]
    }

    function Get-ArrayTask {
        # One object per array task of a job (from scontrol): TaskId, State, ExitCode.
        param([string] $JobId)
        $lines = Invoke-Slurm scontrol @('-o', 'show', 'job', $JobId)
        foreach ($line in $lines) {
            if ("$line" -match 'ArrayTaskId=(\S+).*\bJobState=(\S+).*\bExitCode=(\S+)') {
                [pscustomobject]@{ TaskId = $Matches[1]; State = $Matches[2]; ExitCode = $Matches[3] }
            }
        }
    }

    function Assert-SetupSucceeded {
        # The first test after a failed setup reports the whole error (with the daemons' logs); the others, its
        # first line.
        if (-not $SetupReported) {
            $script:SetupReported = $true
            throw $SetupError
        }
        throw "The setup failed (the first failed test has the details): $(($SetupError.ToString() -split "`n")[0])"
    }

    function Get-TaskOutput {
        # The text of checkpoint-<job>_<task>.out, the example's --output, in the submit directory.
        param([string] $StudyDir, [string] $JobId, [string] $TaskId)
        $path = Join-Path $StudyDir "checkpoint-${JobId}_$TaskId.out"
        if (-not (Test-Path -LiteralPath $path)) { return "(no output file $path)" }
        return Get-Content -LiteralPath $path -Raw
    }

    # --- Can this machine run Slurm at all? A missing prerequisite skips, with the reason.
    if (-not $IsLinux) { $script:SkipReason = 'needs Linux' }
    elseif ((& id -u) -ne '0') { $script:SkipReason = 'needs root (to install Slurm and run its daemons)' }
    elseif (-not (Get-Command apt-get -ErrorAction Ignore)) { $script:SkipReason = 'needs apt-get (Debian) to install Slurm' }
    if ($SkipReason) { return }

    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ('checkpoint-slurm-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
    New-Item -ItemType Directory -Path $Work | Out-Null
    $script:ClusterDir = Join-Path $Work 'cluster'

    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $installLog = Join-Path $Work 'apt.log'
    $said = & bash (Join-Path $SlurmScripts 'install-slurm.sh') $installLog 2>&1
    $Timings.Install = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -ne 0) {
        $script:SkipReason = "Slurm is missing and could not be installed: $(@($said)[-1])"
        Write-Host $SkipReason
        if (Test-Path $installLog) { Get-Content $installLog -Tail 20 | Write-Host }
        return
    }
    Write-Host "Slurm: $(@($said)[-1]) ($('{0:n1}' -f $Timings.Install) s)"

    try {
        # --- The cluster. From here on a failure fails the tests: Slurm is there, so it must work.
        $clock.Restart()
        $said = & bash (Join-Path $SlurmScripts 'start-cluster.sh') $ClusterDir 2>&1
        $Timings.Start = $clock.Elapsed.TotalSeconds
        if ($LASTEXITCODE -ne 0) { throw "start-cluster.sh failed with exit code ${LASTEXITCODE}:`n$($said -join "`n")" }
        Write-Host "Slurm: $(@($said)[-1]) ($('{0:n1}' -f $Timings.Start) s)"

        # --- The study: a GSM8K-like CSV whose answers end with '#### N'.
        $script:SampleCount = 300
        $script:Study = Join-Path $Work 'study'
        $script:Dataset = Join-Path $Study 'data/gsm8k.csv'
        $script:Outputs = Join-Path $Study 'outputs'
        New-Item -ItemType Directory -Path (Split-Path $Dataset) -Force | Out-Null
        $script:Expected = [ordered]@{}
        $rows = foreach ($i in 1..$SampleCount) {
            $id = 'gsm-{0:d4}' -f $i
            $a = 3 * $i
            $b = $i % 17
            $Expected[$id] = [string]($a + $b)
            "$id,""Tom has $a apples, and Ann gives him $b. How many does he have?"",""He has $a + $b = $($a + $b) apples.`n#### $($a + $b)"""
        }
        Set-Content -LiteralPath $Dataset -Value (@('id,question,answer') + $rows) -Encoding utf8NoBOM

        $script:SparseStudy = Join-Path $Work 'sparse'
        $script:SparseOutputs = Join-Path $SparseStudy 'outputs'
        New-Item -ItemType Directory -Path $SparseStudy | Out-Null

        # A study too long to finish in the test, for a task that Slurm signals while it runs.
        $script:SignalStudy = Join-Path $Work 'signal'
        $script:SignalOutputs = Join-Path $SignalStudy 'outputs'
        $script:SignalDataset = Join-Path $SignalStudy 'data/long.csv'
        $script:SignalCount = 400000
        New-Item -ItemType Directory -Path (Split-Path $SignalDataset) -Force | Out-Null
        $lines = [string[]]::new($SignalCount + 1)
        $lines[0] = 'id,question,answer'
        for ($i = 1; $i -le $SignalCount; $i++) { $lines[$i] = "long-$i,What is $i?,#### $i" }
        [System.IO.File]::WriteAllLines($SignalDataset, $lines)

        # --- The three arrays at once (4 + 3 + 1 tasks fit the node's 8 CPUs), then wait for them, bounded. Once
        # the long run has written results, its batch shell gets SIGTERM, as --signal=B:TERM@60 sends it.
        $clock.Restart()
        $script:JobId = Submit-ArrayJob -Array '1-4' -StudyDir $Study -Dataset $Dataset -OutputDir $Outputs
        $script:SparseJobId = Submit-ArrayJob -Array '1,3,5' -StudyDir $SparseStudy -Dataset $Dataset -OutputDir $SparseOutputs
        $script:SignalJobId = Submit-ArrayJob -Array '1' -StudyDir $SignalStudy -Dataset $SignalDataset -OutputDir $SignalOutputs
        $script:Signaled = $false
        $deadline = [DateTime]::UtcNow.AddSeconds(150)
        while ($true) {
            if (-not $Signaled -and (Test-Path -LiteralPath $SignalOutputs) -and
                @(Get-ChildItem -LiteralPath $SignalOutputs -Filter *.jsonl | Where-Object Length -GT 0).Count -gt 0) {
                Invoke-Slurm scancel @('--batch', '--signal=TERM', $SignalJobId) | Out-Null
                $script:Signaled = $true
            }
            $queued = @(Invoke-Slurm squeue @('-h', '-o', '%i %T', '-j', "$JobId,$SparseJobId,$SignalJobId") | Where-Object { "$_".Trim() })
            if ($queued.Count -eq 0) { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw "The array jobs were not done within 150 s; still queued: $($queued -join '; ')" }
            Start-Sleep -Milliseconds 250
        }
        $Timings.Jobs = $clock.Elapsed.TotalSeconds
        Write-Host "Slurm: array jobs $JobId (1-4), $SparseJobId (1,3,5) and $SignalJobId (1, signaled) done in $('{0:n1}' -f $Timings.Jobs) s"
        $script:Tasks = @(Get-ArrayTask $JobId)
        $script:SparseTasks = @(Get-ArrayTask $SparseJobId)
    }
    catch {
        # Kept for the tests to report, so that AfterAll stops the cluster in any case.
        $script:SetupError = $_
    }
}

AfterAll {
    if ($ClusterDir -and (Test-Path $ClusterDir)) {
        $said = & bash (Join-Path $SlurmScripts 'stop-cluster.sh') $ClusterDir 2>&1
        if ($LASTEXITCODE -ne 0) { Write-Warning "stop-cluster.sh: $($said -join "`n")" }
    }
    if ($Work -and (Test-Path $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Continue }
}

Describe 'Slurm: the shipped array job on a one-node cluster' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason }
        if ($SetupError) { Assert-SetupSucceeded }
    }

    It 'runs the four tasks of --array=1-4 to completion' {
        $Tasks.TaskId | Sort-Object | Should -Be @('1', '2', '3', '4')
        foreach ($task in $Tasks) {
            $because = "task $($task.TaskId) ended $($task.State) $($task.ExitCode):`n$(Get-TaskOutput $Study $JobId $task.TaskId)"
            $task.State | Should -Be 'COMPLETED' -Because $because
            $task.ExitCode | Should -Be '0:0' -Because $because
        }
    }

    It "resolves -Shard auto to shard k/4 in task k, as each task's output says" {
        foreach ($k in 1..4) {
            (Get-TaskOutput $Study $JobId $k) -replace '\s+', ' ' | Should -BeLike "*-Shard auto: shard $k/4 from Slurm array task $k (1-4:1, 4 tasks)*"
        }
    }

    It 'writes {RunId}_shard-k-of-4.jsonl for k = 1..4 and no unsharded results file' {
        $runId = (Get-CheckpointStats -OutputDirectory $Outputs).RunId
        $jsonl = @(Get-ChildItem -LiteralPath $Outputs -Filter *.jsonl | ForEach-Object Name | Sort-Object)
        $jsonl | Should -Be @(1..4 | ForEach-Object { "${runId}_shard-$_-of-4.jsonl" })
    }

    It 'merges into one completed run over shards 1/4..4/4 in Get-CheckpointStats' {
        $stats = @(Get-CheckpointStats -OutputDirectory $Outputs)
        $stats.Count | Should -Be 1
        $stats[0].Model | Should -Be 'slurm-test'
        $stats[0].Shards | Should -Be '1/4,2/4,3/4,4/4'
        $stats[0].TotalSamples | Should -Be $SampleCount
        $stats[0].CompletedSamples | Should -Be $SampleCount
        $stats[0].FailedSamples | Should -Be 0
        $stats[0].PercentComplete | Should -Be 100
        $stats[0].Status | Should -Be 'Completed'
    }

    It 'returns every sample exactly once, with the right answer, from Get-CheckpointResult' {
        $results = @(Get-CheckpointResult -RunId * -OutputDirectory $Outputs)
        $results.Count | Should -Be $SampleCount
        @($results.SampleId | Sort-Object -Unique).Count | Should -Be $SampleCount
        @($results.SampleId | Sort-Object) | Should -Be @($Expected.Keys | Sort-Object)
        $wrong = @($results | Where-Object { $_.Status -ne 'Completed' -or $_.Output.id -ne $_.SampleId -or $_.Output.answer -ne $Expected[$_.SampleId] -or $_.Output.shard -ne $_.Shard })
        $wrong | ForEach-Object { "$($_.SampleId): $($_.Status) $($_.OutputJson)" } | Should -BeNullOrEmpty
        # Every shard did a share of the work.
        @($results | Group-Object Shard | ForEach-Object Name | Sort-Object) | Should -Be @('1/4', '2/4', '3/4', '4/4')
    }
}

Describe 'Slurm: a sparse array (--array=1,3,5)' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason }
        if ($SetupError) { Assert-SetupSucceeded }
    }

    It 'fails every task with the ShardAutoFailed error, whose message names -Shard' {
        $SparseTasks.TaskId | Sort-Object | Should -Be @('1', '3', '5')
        foreach ($task in $SparseTasks) {
            $text = (Get-TaskOutput $SparseStudy $SparseJobId $task.TaskId) -replace '\s+', ' '
            $task.State | Should -Be 'FAILED' -Because "task $($task.TaskId) must fail:`n$text"
            $task.ExitCode | Should -Not -Be '0:0'
            $text | Should -BeLike '*-Shard*' -Because "task $($task.TaskId)'s output must name -Shard"
            $text | Should -BeLike '*not a regular range*'
            $text | Should -Not -BeLike '*-Shard auto: shard*'
        }
    }

    It 'creates no results file' {
        if (Test-Path -LiteralPath $SparseOutputs) {
            @(Get-ChildItem -LiteralPath $SparseOutputs -Recurse -File) | Should -BeNullOrEmpty
        }
    }
}

Describe 'Slurm: SIGTERM to the batch shell, as --signal=B:TERM@60 sends it before the time limit' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason }
        if ($SetupError) { Assert-SetupSucceeded }
    }

    It 'reaches pwsh (the script execs it), which stops the run cleanly as Interrupted' {
        $Signaled | Should -BeTrue -Because 'the task must have written results before the signal'
        $text = Get-TaskOutput $SignalStudy $SignalJobId '1'
        $stats = @(Get-CheckpointStats -OutputDirectory $SignalOutputs)
        $stats.Count | Should -Be 1
        $stats[0].Status | Should -Be 'Interrupted' -Because "the task's output was:`n$text"
        $stats[0].Shards | Should -Be '1/1'
        $stats[0].CompletedSamples | Should -BeGreaterThan 0
        $stats[0].CompletedSamples | Should -BeLessThan $SignalCount
        $stats[0].PendingSamples | Should -Be ($SignalCount - $stats[0].CompletedSamples)
        @(Get-CheckpointResult -RunId * -OutputDirectory $SignalOutputs).Count | Should -Be $stats[0].CompletedSamples
    }
}

Describe 'Slurm: the test cluster' {
    BeforeEach {
        if ($SkipReason) { Set-ItResult -Skipped -Because $SkipReason }
    }

    It 'stops every daemon it started, by PID' {
        $pidsFile = Join-Path $ClusterDir 'pids'
        Test-Path $pidsFile | Should -BeTrue
        $started = @(Get-Content $pidsFile | ForEach-Object { $name, $id = -split $_; [pscustomobject]@{ Name = $name; Id = [int]$id } })
        $said = & bash (Join-Path $SlurmScripts 'stop-cluster.sh') $ClusterDir 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($said -join "`n")
        foreach ($daemon in $started) {
            $process = Get-Process -Id $daemon.Id -ErrorAction Ignore
            # A PID may be reused by another program, or stay as an unreaped zombie; neither is the daemon.
            $running = $process -and -not $process.HasExited -and $process.ProcessName -eq $daemon.Name -and
                ((Get-Content "/proc/$($daemon.Id)/stat" -Raw -ErrorAction Ignore) -notmatch '\) [ZX] ')
            $running | Should -BeFalse -Because "$($daemon.Name) (pid $($daemon.Id)) must be stopped"
        }
    }
}
