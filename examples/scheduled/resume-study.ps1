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
# The whole run, all its shards: a resume reports each part it continued.
$run = $summary | Select-Object -First 1 | Get-CheckpointStats
if ($run -and $run.Status -ne 'Completed') {
    Write-Warning "Run $($run.RunId) is $($run.Status): $($run.PendingSamples) pending, $($run.FailedSamples) failed."
    exit 1
}
