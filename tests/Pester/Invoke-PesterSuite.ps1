<#
.SYNOPSIS
    Runs the Pester suite against the built module and writes a summary for build.ps1.
#>
param(
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $SummaryPath,
    [Parameter(Mandatory)][string] $ResultsDirectory
)

$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:CHECKPOINT_TEST_MODULE = $ModulePath

$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path $ResultsDirectory 'pester.xml'
$result = Invoke-Pester -Configuration $config

[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount + $result.NotRunCount
} | ConvertTo-Json | Set-Content -Path $SummaryPath -Encoding utf8

exit ($result.Result -eq 'Passed' ? 0 : 1)
