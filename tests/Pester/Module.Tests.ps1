BeforeAll {
    $script:ModulePath = $env:CHECKPOINT_TEST_MODULE
    Import-Module $ModulePath -Force
    $script:RepoRoot = Resolve-Path (Join-Path $PSScriptRoot '../..')
}

Describe 'The built module' {
    It 'has a manifest that Test-ModuleManifest accepts, with the version of the source manifest' {
        $manifest = Test-ModuleManifest (Join-Path $ModulePath 'Checkpoint.psd1')
        $source = Import-PowerShellDataFile (Join-Path $RepoRoot 'Checkpoint.psd1')
        $manifest.Version | Should -Be ([version]$source.ModuleVersion)
        $manifest.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        $manifest.PowerShellVersion | Should -Be ([version]'5.1')
    }

    It 'loads the core assembly with the module version' {
        $core = [Checkpoint.CheckpointManager].Assembly.GetName()
        $core.Name | Should -Be 'Checkpoint.Core'
        $source = Import-PowerShellDataFile (Join-Path $RepoRoot 'Checkpoint.psd1')
        $core.Version.ToString(3) | Should -Be $source.ModuleVersion
    }

    It 'binds its System.Text.Json reference to the copy PowerShell already loads' {
        $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'System.Text.Json' }
        @($loaded).Count | Should -Be 1
        $loaded.GetName().Version.Major | Should -BeGreaterOrEqual 8
    }
}

Describe 'The library API from PowerShell' {
    It 'writes through CheckpointStore and reads back through CheckpointManager' {
        $dir = Join-Path $TestDrive 'api'
        $files = [Checkpoint.Store.RunFiles]::new($dir, '20261128_data_model_0123abcd', $null)
        $store = [Checkpoint.Store.CheckpointStore]::Open($files, 10)
        foreach ($id in 'q1', 'q2', 'q3') {
            $null = $store.Append([Checkpoint.Store.CheckpointRecord]@{
                    SampleId = $id; Status = 'Completed'; StartedAt = [DateTimeOffset]::UtcNow; CompletedAt = [DateTimeOffset]::UtcNow
                    OutputJson = '{"answer":42}'
                }, $null)
        }
        $null = $store.Append([Checkpoint.Store.CheckpointRecord]@{
                SampleId = 'q4'; Status = 'Failed'; StartedAt = [DateTimeOffset]::UtcNow; CompletedAt = [DateTimeOffset]::UtcNow
                Error = [Checkpoint.Store.RecordError]@{ Type = 'Boom'; Message = 'failed'; Transient = $false }
            }, $null)
        $store.Close('Incomplete')

        $stats = [Checkpoint.CheckpointManager]::new($files.ResultsPath).GetStats()
        $stats.CompletedSamples | Should -Be 3
        $stats.FailedSamples | Should -Be 1
        $stats.ErrorCount | Should -Be 1
        $stats.LastCheckpoint | Should -Not -BeNullOrEmpty
        (Get-Content $files.ResultsPath).Count | Should -Be 4
        (Get-Content $files.StatePath -Raw | ConvertFrom-Json).status | Should -Be 'Incomplete'
    }
}
