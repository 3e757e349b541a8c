<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks the Checkpoint module.
.DESCRIPTION
    Build: publishes the C# projects and lays out the importable module at output/Checkpoint.
    Test:  Build, then the xunit tests (tests/Unit), then the Pester tests (tests/Pester) in a child pwsh that
           imports output/Checkpoint; ends with one line 'N passed, N failed, N skipped' for both suites.
    Demo:  Build, then a small run that fails on some samples, stops, resumes and prints its stats.
    Bench: Build, then the benchmarks (tables, never a pass/fail on timing). With -Baseline REV, the no-op and
           latency cases also run the module built from git revision REV, alternating, and print the ratio;
           the rate-limit benchmark runs it as its case (b).
    Package: Build, then Publish-PSResource to output/ as a local file repository: output/Checkpoint.<version>.nupkg.
    Install: Package, then Install-PSResource from that repository for -Scope CurrentUser (the default) or
           AllUsers, so that 'Import-Module Checkpoint' finds it and 'Uninstall-PSResource Checkpoint' removes it.
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Install
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Install')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Bench only: run each benchmark at a reduced size (what CI runs as a smoke test).
    [switch] $Quick,

    # Bench only: a git revision (a commit, tag or branch) whose build the no-op and latency cases also run,
    # alternating with the current build in the same run, to print their ratio.
    [string] $Baseline,

    # Install only: where Install-PSResource puts the module.
    [ValidateSet('CurrentUser', 'AllUsers')]
    [string] $Scope = 'CurrentUser',

    # Package and Install only: package the module already built at output/Checkpoint instead of building it.
    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = $PSScriptRoot
$Output = Join-Path $Root 'output'
$ModuleDir = Join-Path $Output 'Checkpoint'
$TestResults = Join-Path $Output 'test-results'
$PesterVersion = '5.7.1'

function Invoke-Native {
    # Runs a native command and throws when it fails, so that every task stops at the first failure.
    param([Parameter(Mandatory)][string] $FilePath, [string[]] $ArgumentList = @())
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Get-PwshPath {
    # The real pwsh executable, not the dotnet tool shim: the shim does not pass signals on.
    $candidate = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    if (-not (Test-Path $candidate)) { throw "No pwsh executable in '$PSHOME'." }
    return $candidate
}

function Invoke-Build {
    Build-Module -SourceRoot $Root -Destination $ModuleDir -Publish (Join-Path $Output 'publish')
    $manifest = Test-ModuleManifest (Join-Path $ModuleDir 'Checkpoint.psd1')
    Write-Host "Built Checkpoint $($manifest.Version) at $ModuleDir"
}

function Build-Module {
    # Publishes the C# projects of the tree at $SourceRoot and lays out the importable module at $Destination.
    param([string] $SourceRoot, [string] $Destination, [string] $Publish)
    if (Test-Path $Publish) { Remove-Item $Publish -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $SourceRoot 'src/CheckpointCmdlets/Checkpoint.Commands/Checkpoint.Commands.csproj'),
        '-c', $Configuration, '-o', $Publish, '--nologo', '-v', 'quiet')

    if (Test-Path $Destination) { Remove-Item $Destination -Recurse -Force }
    New-Item -ItemType Directory -Path $Destination | Out-Null
    Get-ChildItem $Publish -Filter *.dll | Copy-Item -Destination $Destination
    Copy-Item (Join-Path $SourceRoot 'Checkpoint.psd1') $Destination
    $license = Join-Path $SourceRoot 'LICENSE'
    if (Test-Path $license) { Copy-Item $license $Destination }
    $moduleFiles = Join-Path $SourceRoot 'src/CheckpointCmdlets/Checkpoint.Commands/ModuleFiles'
    if (Test-Path $moduleFiles) {
        Get-ChildItem $moduleFiles -File | Copy-Item -Destination $Destination
    }
    $helpScript = Join-Path $SourceRoot 'src/CheckpointCmdlets/Checkpoint.Commands/Help/Build-Help.ps1'
    if (Test-Path $helpScript) {
        & $helpScript -OutputDirectory $Destination
    }
}

function Invoke-BaselineBuild {
    # The module of git revision $Baseline, built from a clean export of that revision under output/baseline.
    $baseRoot = Join-Path $Output 'baseline'
    if (Test-Path $baseRoot) { Remove-Item $baseRoot -Recurse -Force }
    $source = Join-Path $baseRoot 'source'
    New-Item -ItemType Directory -Path $source | Out-Null
    $archive = Join-Path $baseRoot 'source.tar'
    Invoke-Native git @('-C', $Root, 'archive', '--format=tar', '-o', $archive, $Baseline)
    Invoke-Native tar @('-xf', $archive, '-C', $source)
    $destination = Join-Path $baseRoot 'Checkpoint'
    Build-Module -SourceRoot $source -Destination $destination -Publish (Join-Path $baseRoot 'publish')
    Write-Host "Built the baseline module of '$Baseline' at $destination"
    return $destination
}

function Get-PesterModulePath {
    # Pester comes from NuGet at a pinned version, restored into output/, never installed by hand.
    $packages = Join-Path $Output 'packages'
    $psd1 = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/Pester/PesterPackage.csproj'), '--packages', $packages, '--nologo', '-v', 'quiet')
    }
    return $psd1
}

function Invoke-Test {
    Invoke-Build
    if (Test-Path $TestResults) { Remove-Item $TestResults -Recurse -Force }
    New-Item -ItemType Directory -Path $TestResults | Out-Null
    # The tests sign and check stored blocks with a key of their own, never the user's.
    if (-not $env:CHECKPOINT_KEY_FILE) { $env:CHECKPOINT_KEY_FILE = Join-Path $TestResults 'checkpoint-key' }

    $trx = Join-Path $TestResults 'unit.trx'
    & dotnet test (Join-Path $Root 'tests/Unit/Checkpoint.Tests.csproj') -c $Configuration --nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal' --results-directory $TestResults
    $unitExit = $LASTEXITCODE
    if (-not (Test-Path $trx)) { throw "xunit produced no results (exit code $unitExit)." }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    $unit = [pscustomobject]@{
        Passed  = [int]$counters.passed
        Failed  = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        Skipped = [int]$counters.notExecuted
    }
    if ($unitExit -ne 0 -and $unit.Failed -eq 0) { $unit.Failed = 1 }

    $pesterPath = Get-PesterModulePath
    $summary = Join-Path $TestResults 'pester-summary.json'
    & (Get-PwshPath) -NoProfile -NonInteractive -File (Join-Path $Root 'tests/Pester/Invoke-PesterSuite.ps1') `
        -PesterPath $pesterPath -ModulePath $ModuleDir -SummaryPath $summary -ResultsDirectory $TestResults
    $pesterExit = $LASTEXITCODE
    if (-not (Test-Path $summary)) { throw "Pester produced no results (exit code $pesterExit)." }
    $pester = Get-Content $summary -Raw | ConvertFrom-Json
    if ($pesterExit -ne 0 -and $pester.Failed -eq 0) { $pester.Failed = 1 }

    Write-Host ''
    Write-Host ("xunit:  {0} passed, {1} failed, {2} skipped" -f $unit.Passed, $unit.Failed, $unit.Skipped)
    Write-Host ("Pester: {0} passed, {1} failed, {2} skipped" -f $pester.Passed, $pester.Failed, $pester.Skipped)
    $passed = $unit.Passed + $pester.Passed
    $failed = $unit.Failed + $pester.Failed
    $skipped = $unit.Skipped + $pester.Skipped
    Write-Host ("{0} passed, {1} failed, {2} skipped" -f $passed, $failed, $skipped)
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    & (Get-PwshPath) -NoProfile -NonInteractive -File (Join-Path $Root 'examples/demo/Start-Demo.ps1') -ModulePath $ModuleDir
    if ($LASTEXITCODE -ne 0) { throw "The demo failed with exit code $LASTEXITCODE." }
}

function Invoke-Bench {
    Invoke-Build
    $benchArgs = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'bench/Invoke-Benchmarks.ps1'), '-ModulePath', $ModuleDir, '-Configuration', $Configuration)
    if ($Quick) { $benchArgs += '-Quick' }
    if ($Baseline) { $benchArgs += @('-BaselineModulePath', (Invoke-BaselineBuild)) }
    & (Get-PwshPath) @benchArgs
    if ($LASTEXITCODE -ne 0) { throw "The benchmarks failed with exit code $LASTEXITCODE." }
}

function Invoke-WithOutputRepository {
    # PSResourceGet publishes and installs only through a registered repository: output/ is registered as a
    # file repository for the length of the task and unregistered afterwards, leaving the user's list as it was.
    param([Parameter(Mandatory)][scriptblock] $Action)
    $name = 'CheckpointBuildOutput'
    if (Get-PSResourceRepository -Name $name -ErrorAction SilentlyContinue) { Unregister-PSResourceRepository -Name $name }
    Register-PSResourceRepository -Name $name -Uri $Output -Trusted
    try {
        & $Action $name
    }
    finally {
        Unregister-PSResourceRepository -Name $name
    }
}

function Publish-ModulePackage {
    # Publishes output/Checkpoint to the repository $Repository and returns the package's version.
    param([Parameter(Mandatory)][string] $Repository)
    if (-not (Test-Path (Join-Path $ModuleDir 'Checkpoint.psd1'))) { throw "No module at ${ModuleDir}: build it first (-Task Build)." }
    $version = (Test-ModuleManifest (Join-Path $ModuleDir 'Checkpoint.psd1')).Version
    # A repository refuses a version it already holds: the package of this build replaces the last one.
    $package = Join-Path $Output "Checkpoint.$version.nupkg"
    if (Test-Path $package) { Remove-Item $package }
    Publish-PSResource -Path $ModuleDir -Repository $Repository
    if (-not (Test-Path $package)) { throw "Publish-PSResource wrote no $package." }
    Write-Host "Packaged Checkpoint $version at $package"
    return $version
}

function Invoke-Package {
    if (-not $NoBuild) { Invoke-Build }
    Invoke-WithOutputRepository { param($repository) $null = Publish-ModulePackage -Repository $repository }
}

function Invoke-Install {
    if (-not $NoBuild) { Invoke-Build }
    Invoke-WithOutputRepository {
        param($repository)
        $version = Publish-ModulePackage -Repository $repository
        # -Reinstall: a rebuilt package of the same version replaces the installed one.
        Install-PSResource -Name Checkpoint -Version $version -Repository $repository -Scope $Scope -Reinstall -TrustRepository
        $installed = Get-InstalledPSResource -Name Checkpoint -Version $version -Scope $Scope
        Write-Host "Installed Checkpoint $version at $($installed.InstalledLocation) (${Scope}): 'Import-Module Checkpoint' loads it, 'Uninstall-PSResource Checkpoint' removes it."
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
    'Install' { Invoke-Install }
}
