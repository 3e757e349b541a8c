# Other versions of the module's dependencies in the same session: CsvHelper 30.0.1, Polly.Core 8.4.2 and
# Polly 7.2.4, restored from NuGet by Dependencies/ClashPackages.csproj and loaded with Add-Type, before
# Checkpoint is imported or after its first run. Each order runs in a pwsh of its own, since an assembly once
# loaded stays for the life of the process.
BeforeAll {
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:Packages = Join-Path $RepoRoot 'output/packages'
    $marker = Join-Path $Packages 'polly/7.2.4/lib/netstandard2.0/Polly.dll'
    if (-not (Test-Path $marker)) {
        & dotnet restore (Join-Path $PSScriptRoot 'Dependencies/ClashPackages.csproj') --packages $Packages --nologo -v quiet
        if ($LASTEXITCODE -ne 0) { throw "Restoring Dependencies/ClashPackages.csproj failed with exit code $LASTEXITCODE." }
    }
    $script:ModulePath = (Resolve-Path $env:CHECKPOINT_TEST_MODULE).ProviderPath
    $script:Version = (Import-PowerShellDataFile (Join-Path $RepoRoot 'Checkpoint.psd1')).ModuleVersion

    function Invoke-ClashStudy([string] $Order) {
        $work = Join-Path $TestDrive $Order
        New-Item -ItemType Directory -Path $work | Out-Null
        Set-Content -Path (Join-Path $work 'data.csv') -Value "id,question,answer`nq1,a,10`nq2,b,20`nq3,c,30`nq4,d,40`nq5,e,50"
        $output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Dependencies/Invoke-ClashStudy.ps1') `
            -ModulePath $ModulePath -Packages $Packages -Order $Order -WorkDirectory $work 2>&1 | Out-String
        return [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $output }
    }

    function Get-Lines([string] $Output, [string] $Key) {
        # The values of the child's 'key: value' lines, in order.
        [regex]::Matches($Output, "(?m)^$([regex]::Escape($Key)): (.*?)\r?$") | ForEach-Object { $_.Groups[1].Value }
    }
}

Describe 'Other versions of CsvHelper and Polly loaded before Checkpoint' {
    BeforeAll {
        $script:Run = Invoke-ClashStudy DependenciesFirst
    }

    It 'runs a study that reads CSV and retries' {
        $Run.ExitCode | Should -Be 0 -Because $Run.Output
        Get-Lines $Run.Output 'study first' | Should -Be '5 of 5 completed, retried q2,q4'
    }

    It 'leaves the session its own versions, before and after the study' {
        Get-Lines $Run.Output 'session csv' | Should -Be @('2', '2')
        Get-Lines $Run.Output 'session CsvHelper' | Should -Be @('30.0.0.0', '30.0.0.0')
        Get-Lines $Run.Output 'session Polly.Core' | Should -Be @('8.4.2', '8.4.2')
        Get-Lines $Run.Output 'session Polly' | Should -Be @('7.0.0.0 tries 2', '7.0.0.0 tries 2')
    }

    It 'loads its own CsvHelper beside the session''s, in the module''s context, and keeps Checkpoint.Core in the default one' {
        Get-Lines $Run.Output 'loaded CsvHelper' | Should -Be '30.0.1 (Default), 33.1.0 (Checkpoint)'
        Get-Lines $Run.Output 'loaded Checkpoint.Core' | Should -Be "$Version (Default)"
    }

    It 'shares a Polly.Core 8 loaded before it (every 8.x has assembly version 8.0.0.0, one assembly to .NET)' {
        # Checkpoint.Core lives in the default context, where .NET binds its reference to the Polly.Core 8.0.0.0
        # already there without asking anyone; the README says so.
        Get-Lines $Run.Output 'loaded Polly.Core' | Should -Be '8.4.2 (Default)'
    }
}

Describe 'Other versions of CsvHelper and Polly loaded after Checkpoint''s first run' {
    BeforeAll {
        $script:Run = Invoke-ClashStudy CheckpointFirst
    }

    It 'lets the session load and use its own versions, and runs a study again' {
        $Run.ExitCode | Should -Be 0 -Because $Run.Output
        Get-Lines $Run.Output 'study first' | Should -Be '5 of 5 completed, retried q2,q4'
        Get-Lines $Run.Output 'session csv' | Should -Be '2'
        Get-Lines $Run.Output 'session CsvHelper' | Should -Be '30.0.0.0'
        Get-Lines $Run.Output 'session Polly.Core' | Should -Be '8.4.2'
        Get-Lines $Run.Output 'session Polly' | Should -Be '7.0.0.0 tries 2'
        Get-Lines $Run.Output 'study second' | Should -Be '5 of 5 completed, retried q2,q4'
    }

    It 'holds its CsvHelper and Polly.Core in the module''s context, beside the session''s' {
        Get-Lines $Run.Output 'loaded CsvHelper' | Should -Be '30.0.1 (Default), 33.1.0 (Checkpoint)'
        Get-Lines $Run.Output 'loaded Polly.Core' | Should -Be '8.4.2 (Default), 8.9.1 (Checkpoint)'
        Get-Lines $Run.Output 'loaded Checkpoint.Core' | Should -Be "$Version (Default)"
    }
}
