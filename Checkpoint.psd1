@{
    RootModule           = 'Checkpoint.Commands.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '6f0f3f5e-2d55-4c1b-9a5e-7d3f6c2b8e41'
    Author               = 'Checkpoint contributors'
    CompanyName          = 'Checkpoint'
    Copyright            = '(c) Checkpoint contributors. MIT License.'
    Description          = 'Resumable, fault-tolerant batch runs for PowerShell: every result is checkpointed to a checksummed JSONL file, so a crash, a rate limit or Ctrl+C costs only the samples in flight.'
    PowerShellVersion    = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    RequiredAssemblies   = @('Checkpoint.Core.dll')
    FormatsToProcess     = @('Checkpoint.Format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Start-CheckpointRun'
        'Resume-CheckpointRun'
        'Get-CheckpointStats'
        'Get-CheckpointResult'
        'Remove-Checkpoint'
        'Get-CheckpointCache'
        'Clear-CheckpointCache'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('checkpoint', 'resume', 'batch', 'llm', 'jsonl', 'fault-tolerance')
            # The license is the LICENSE file shipped in the module folder (MIT); the project has no public
            # address yet, so there is no LicenseUri or ProjectUri rather than empty ones.
            ReleaseNotes = @'
0.1.0, the first release: Start-CheckpointRun, Resume-CheckpointRun, Get-CheckpointStats, Get-CheckpointResult
and Remove-Checkpoint. Every result is appended to a checksummed JSONL file, so a run resumes where it stopped;
shards, parallel runspaces, retries with backoff, outage detection and cost budgets. On PowerShell 7 its
CsvHelper and Polly.Core load in an assembly load context of their own, beside other versions in the session.
Tested: PowerShell 7.6 on Linux. Built for but not tested: PowerShell 7.4 and 7.5, Windows PowerShell 5.1,
Windows and macOS. PowerShell 7.0 to 7.3 are not supported (they ship an older System.Text.Json).
'@
        }
    }
}
