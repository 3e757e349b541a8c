<#
.SYNOPSIS
    Runs one Start-CheckpointRun or Resume-CheckpointRun in a child pwsh for the resilience tests, as its spec
    file says, and writes what happened (summary, errors, warnings) to the spec's ResultPath.
.DESCRIPTION
    The spec (JSON) has: Module (path to import), Command ('Start' or 'Resume'), Dataset and OutputDirectory
    (Start), Path (the run's .jsonl, Resume), Block (text of -Process, Start), Parameters (more parameters of
    the cmdlet) and ResultPath. The result is written in a finally block, so it is there after an error too;
    after a SIGTERM stop or a SIGKILL it may be missing, and the tests read the files on disk instead.
#>
param([Parameter(Mandatory)][string] $SpecPath)

$ErrorActionPreference = 'Stop'
$spec = Get-Content -LiteralPath $SpecPath -Raw | ConvertFrom-Json -AsHashtable
$result = [ordered]@{ Pid = $PID; Summary = $null; Errors = @(); Warnings = @(); Terminating = $null }
$warnings = $null
$errs = $null
try {
    Import-Module $spec.Module
    $extra = if ($spec.Parameters) { $spec.Parameters } else { @{} }
    $streams = @{ WarningVariable = 'warnings'; WarningAction = 'SilentlyContinue'; ErrorVariable = 'errs'; ErrorAction = 'SilentlyContinue' }
    if ($spec.Command -eq 'Start') {
        $summary = Start-CheckpointRun -Dataset $spec.Dataset -OutputDirectory $spec.OutputDirectory -Process ([scriptblock]::Create($spec.Block)) @extra @streams
    }
    else {
        $summary = Resume-CheckpointRun -Path $spec.Path @extra @streams
    }
    $result.Summary = $summary | Select-Object RunId, Status, TotalSamples, CompletedSamples, FailedSamples, PendingSamples, ProcessedThisRun, Path
}
catch {
    $result.Terminating = @{ Id = $_.FullyQualifiedErrorId; Message = $_.Exception.Message; Target = [string]$_.TargetObject }
}
finally {
    $result.Errors = @($errs | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object {
            @{ Id = $_.FullyQualifiedErrorId; Message = $_.Exception.Message; Target = [string]$_.TargetObject }
        })
    $result.Warnings = @($warnings | ForEach-Object { [string]$_.Message })
    [System.IO.File]::WriteAllText($spec.ResultPath, ($result | ConvertTo-Json -Depth 6))
}
