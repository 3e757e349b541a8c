BeforeAll {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'The settings a run keeps' {
    It 'are parameters of Start-CheckpointRun, and of Resume-CheckpointRun but -CheckpointEvery' {
        $all = [Checkpoint.Runs.KeptSettings].GetProperty('All', [Reflection.BindingFlags]'NonPublic, Static').GetValue($null)
        $parameters = @($all | ForEach-Object Parameter)
        $parameters.Count | Should -Be 20
        $start = (Get-Command Start-CheckpointRun).Parameters.Keys
        $resume = (Get-Command Resume-CheckpointRun).Parameters.Keys
        foreach ($name in $parameters) {
            $start | Should -Contain $name
            if ($name -ne 'CheckpointEvery') { $resume | Should -Contain $name }
        }
    }

    It 'are kept as the start gave them, and a resume keeps what it is given anew' {
        $dir = New-TestDirectory $TestDrive
        $out = Join-Path $dir 'out'
        $csv = New-TestCsv (Join-Path $dir 'data.csv') -Count 4
        $started = Start-CheckpointRun $csv -Limit 1 -MaxRetries 1 -RetryDelaySeconds 0.5 -RetryOn 429 -OutageWaitSeconds 7 -CheckpointEvery 3 -OutputDirectory $out -Process { $_.id }
        $statePath = Join-Path $out "$($started.RunId)_resume_state.json"
        $kept = (Get-Content $statePath -Raw | ConvertFrom-Json).settings
        $kept.max_retries, $kept.retry_delay_seconds, $kept.outage_wait_seconds, $kept.checkpoint_every | Should -Be @(1, 0.5, 7, 3)
        $kept.retry_on | Should -Be @('429')
        $kept.max_outage_minutes | Should -Be ([Checkpoint.Runs.KeptSettings]::MaxOutageMinutesDefault)

        $null = Resume-CheckpointRun $started.RunId -OutputDirectory $out -MaxRetries 0 -MaxOutageMinutes 2 -Limit 1

        $kept = (Get-Content $statePath -Raw | ConvertFrom-Json).settings
        $kept.max_retries, $kept.max_outage_minutes | Should -Be @(0, 2)
        $kept.retry_delay_seconds, $kept.outage_wait_seconds, $kept.checkpoint_every | Should -Be @(0.5, 7, 3)
        $kept.retry_on | Should -Be @('429')
        $kept.process | Should -Be ' $_.id '
    }
}
