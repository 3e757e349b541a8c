<#
.SYNOPSIS
    Runs, in one pwsh, a Checkpoint study next to other versions of its dependencies that the session loads
    itself with Add-Type, before importing Checkpoint or after its first run, and uses both. Prints
    'key: value' lines for Dependencies.Tests.ps1.
#>
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $Packages,
    [Parameter(Mandatory)][ValidateSet('DependenciesFirst', 'CheckpointFirst')][string] $Order,
    [Parameter(Mandatory)][string] $WorkDirectory
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Set-Location $WorkDirectory

function Add-OtherVersions {
    # The versions another module, or the user, brings: CsvHelper 30, Polly.Core 8.4.2 and Polly 7.
    Add-Type -Path (Join-Path $Packages 'csvhelper/30.0.1/lib/net6.0/CsvHelper.dll')
    Add-Type -Path (Join-Path $Packages 'polly.core/8.4.2/lib/net8.0/Polly.Core.dll')
    Add-Type -Path (Join-Path $Packages 'polly/7.2.4/lib/netstandard2.0/Polly.dll')
}

function Use-OtherVersions {
    # The session's own script uses the versions it loaded, through the type names PowerShell resolves.
    $reader = [CsvHelper.CsvReader]::new([System.IO.StringReader]::new("a,b`n1,2`n"), [cultureinfo]::InvariantCulture)
    $null = $reader.Read(); $null = $reader.ReadHeader(); $null = $reader.Read()
    "session csv: $($reader.GetField('b'))"
    "session CsvHelper: $([CsvHelper.CsvReader].Assembly.GetName().Version)"
    $builder = [Polly.ResiliencePipelineBuilder]::new()
    $pipeline = [Polly.TimeoutResiliencePipelineBuilderExtensions]::AddTimeout($builder, [timespan]::FromSeconds(5)).Build()
    $pipeline.Execute([Action] { $script:pollyRan = $true })
    "session Polly.Core: $((Get-Item ([Polly.ResiliencePipeline].Assembly.Location)).VersionInfo.ProductVersion -replace '\+.*$', '')"
    $policy = [Polly.RetrySyntax]::Retry([Polly.Policy]::Handle[System.Exception](), 2)
    $script:tries = 0
    $policy.Execute([Action] { $script:tries++; if ($script:tries -lt 2) { throw [System.TimeoutException]::new('once') } })
    "session Polly: $([Polly.Policy].Assembly.GetName().Version) tries $script:tries"
}

function Invoke-Study([string] $Model) {
    # Reads a CSV and retries: q2 and q4 time out on their first attempt.
    $null = Start-CheckpointRun -Dataset data.csv -Model $Model -MaxRetries 2 -RetryDelaySeconds 0 -Process {
        if ($_.id -in 'q2', 'q4' -and $CheckpointContext.Attempt -eq 1) { throw [System.TimeoutException]::new('slow') }
        [int]$_.answer
    }
    $stats = Get-CheckpointStats -RunId "*_data_${Model}_*"
    $retried = @(Get-CheckpointResult -RunId $stats.RunId | Where-Object Attempt -EQ 2).SampleId -join ','
    "study ${Model}: $($stats.CompletedSamples) of $($stats.TotalSamples) completed, retried $retried"
}

if ($Order -eq 'DependenciesFirst') {
    Add-OtherVersions
    Use-OtherVersions
    Import-Module $ModulePath
    Invoke-Study first
    Use-OtherVersions
}
else {
    Import-Module $ModulePath
    Invoke-Study first
    Add-OtherVersions
    Use-OtherVersions
    Invoke-Study second
}

# Each copy of a dependency, by file version, with the load context that holds it.
foreach ($name in 'CsvHelper', 'Polly.Core', 'Checkpoint.Core') {
    $copies = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name } | ForEach-Object {
        $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name
        "$((Get-Item $_.Location).VersionInfo.ProductVersion -replace '\+.*$', '') ($context)"
    } | Sort-Object
    "loaded ${name}: $($copies -join ', ')"
}
