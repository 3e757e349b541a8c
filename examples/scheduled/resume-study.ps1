<#
.SYNOPSIS
    Continues the newest unfinished run in -OutputDirectory; exits 1 while it is not complete.
#>
param(
    [string] $OutputDirectory = 'outputs',
    [string] $Module = 'Checkpoint'
)

$ErrorActionPreference = 'Stop'
Import-Module $Module
$summary = Resume-CheckpointRun -Latest -OutputDirectory $OutputDirectory
if ($summary -and $summary.Status -ne 'Completed') {
    Write-Warning "Run $($summary.RunId) is $($summary.Status): $($summary.PendingSamples) pending, $($summary.FailedSamples) failed."
    exit 1
}
