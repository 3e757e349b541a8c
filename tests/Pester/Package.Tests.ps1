# The module as a package: what build.ps1 -Task Package puts in the .nupkg, and a package published,
# installed, imported by name, used and uninstalled in a child pwsh whose home and module path are its own.
# Skipped on Windows, where the user's module folder cannot be moved away from the user's own.
BeforeDiscovery {
    $script:NotIsolatable = [bool]$IsWindows
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    $script:BuildScript = Join-Path $RepoRoot 'build.ps1'
    $script:ModulePath = (Resolve-Path $env:CHECKPOINT_TEST_MODULE).ProviderPath
    $script:Version = (Import-PowerShellDataFile (Join-Path $RepoRoot 'Checkpoint.psd1')).ModuleVersion

    # Twelve GSM8K-like rows; the answer follows '#### ' as in the real dataset.
    function New-Gsm8kCsv([string] $Path) {
        $rows = 1..12 | ForEach-Object { [pscustomobject]@{ id = "q$_"; question = "What is $_ + $_?"; answer = "$_ + $_ = $($_ * 2)`n#### $($_ * 2)" } }
        $rows | Export-Csv $Path -NoTypeInformation -UseQuotes AsNeeded
    }

    function Get-Line([string] $Output, [string] $Key) {
        # The value of the child's 'key: value' line.
        $match = [regex]::Match($Output, "(?m)^$([regex]::Escape($Key)): (.*?)\r?$")
        if (-not $match.Success) { return $null }
        return $match.Groups[1].Value
    }
}

Describe 'build.ps1 -Task Package' -Skip:$NotIsolatable {
    BeforeAll {
        # The build's own module folder is what the task packages (-NoBuild: the suite has just built it).
        $isolated = New-IsolatedHome (Join-Path $TestDrive 'package-home')
        $script:PackageRun = Invoke-IsolatedPwsh $isolated -ScriptPath $BuildScript -ArgumentList '-Task', 'Package', '-NoBuild' -WorkingDirectory $RepoRoot
        $script:Package = Join-Path $RepoRoot "output/Checkpoint.$Version.nupkg"
        $script:Extracted = Join-Path $TestDrive 'extracted/Checkpoint'
        if (Test-Path $Package) {
            Add-Type -AssemblyName System.IO.Compression.FileSystem
            [System.IO.Compression.ZipFile]::ExtractToDirectory($Package, $Extracted)
        }
        $script:RepositoryList = Join-Path $isolated.Home '.local/share/PSResourceGet/PSResourceRepository.xml'
    }

    It 'writes output/Checkpoint.<version>.nupkg' {
        $PackageRun.ExitCode | Should -Be 0 -Because $PackageRun.Output
        $Package | Should -Exist
    }

    It 'holds the manifest, LICENSE, both DLLs and their dependencies, the format file, the help and pricing.json, and nothing else' {
        $nupkgOwn = '^(\[Content_Types\]\.xml|_rels/\.rels|Checkpoint\.nuspec|package/services/metadata/core-properties/[0-9a-f]+\.psmdcp)$'
        $files = @(Get-FileTree $Extracted | Where-Object { Test-Path -LiteralPath (Join-Path $Extracted $_) -PathType Leaf } | Where-Object { $_ -notmatch $nupkgOwn })
        $expected = @(
            'Checkpoint.psd1', 'LICENSE', 'Checkpoint.Format.ps1xml', 'pricing.json'
            'en-US/Checkpoint.Commands.dll-Help.xml', 'en-US/about_Checkpoint.help.txt'
            'Checkpoint.Commands.dll', 'Checkpoint.Core.dll'
            # Checkpoint.Core's NuGet dependencies and theirs, as dotnet publish lays them out for netstandard2.0.
            'CsvHelper.dll', 'Polly.Core.dll', 'System.Text.Json.dll', 'Microsoft.Bcl.TimeProvider.dll', 'System.Threading.RateLimiting.dll'
            'System.ComponentModel.Annotations.dll', 'System.Reflection.Emit.Lightweight.dll', 'System.Reflection.Emit.ILGeneration.dll'
            'Microsoft.Bcl.AsyncInterfaces.dll', 'Microsoft.Bcl.HashCode.dll', 'Microsoft.CSharp.dll', 'System.Buffers.dll', 'System.Memory.dll'
            'System.Numerics.Vectors.dll', 'System.Runtime.CompilerServices.Unsafe.dll', 'System.Text.Encodings.Web.dll'
            'System.Threading.Tasks.Extensions.dll'
        )
        $files | Sort-Object | Should -Be ($expected | Sort-Object)
    }

    It 'has a manifest that Test-ModuleManifest accepts, with release notes and no empty license or project address' {
        $manifest = Test-ModuleManifest (Join-Path $Extracted 'Checkpoint.psd1')
        $manifest.Version | Should -Be ([version]$Version)
        $manifest.ReleaseNotes | Should -Match "^$([regex]::Escape($Version)),"
        $psData = (Import-PowerShellDataFile (Join-Path $Extracted 'Checkpoint.psd1')).PrivateData.PSData
        foreach ($key in 'LicenseUri', 'ProjectUri', 'IconUri', 'HelpInfoUri') {
            if ($psData.ContainsKey($key)) { $psData[$key] | Should -Not -BeNullOrEmpty -Because "$key is left out rather than empty" }
        }
        Get-Content (Join-Path $Extracted 'LICENSE') -Raw | Should -Match '(?s)^MIT License.*Copyright \(c\) Checkpoint contributors'
        $nuspec = [xml](Get-Content (Join-Path $Extracted 'Checkpoint.nuspec') -Raw)
        $nuspec.package.metadata.id | Should -Be 'Checkpoint'
        $nuspec.package.metadata.version | Should -Be $Version
        $nuspec.package.metadata.releaseNotes | Should -Not -BeNullOrEmpty
    }

    It 'leaves no repository registered' {
        $RepositoryList | Should -Exist
        Get-Content $RepositoryList -Raw | Should -Not -Match 'CheckpointBuildOutput'
    }
}

Describe 'build.ps1 -Task Install' -Skip:$NotIsolatable {
    It 'installs the module where Import-Module finds it by name, and Uninstall-PSResource removes it' {
        $isolated = New-IsolatedHome (Join-Path $TestDrive 'install-home')
        $script = Join-Path $TestDrive 'install-task.ps1'
        Set-Content -Path $script -Value @'
param([string] $BuildScript)
$ErrorActionPreference = 'Stop'
& $BuildScript -Task Install -NoBuild
Import-Module Checkpoint
"loaded from: $((Get-Module Checkpoint).ModuleBase)"
"cmdlets: $(@(Get-Command -Module Checkpoint).Count)"
Remove-Module Checkpoint
Uninstall-PSResource -Name Checkpoint
"visible after: $(@(Get-Module -ListAvailable Checkpoint).Count)"
'@
        $run = Invoke-IsolatedPwsh $isolated -ScriptPath $script -ArgumentList $BuildScript -WorkingDirectory $RepoRoot
        $run.ExitCode | Should -Be 0 -Because $run.Output
        Get-Line $run.Output 'loaded from' | Should -Be (Join-Path $isolated.Modules "Checkpoint/$Version")
        Get-Line $run.Output 'cmdlets' | Should -Be '7'
        Get-Line $run.Output 'visible after' | Should -Be '0'
        Join-Path $isolated.Modules 'Checkpoint' | Should -Not -Exist
    }
}

Describe 'A package installed with PSResourceGet in a clean pwsh' -Skip:$NotIsolatable {
    BeforeAll {
        $isolated = New-IsolatedHome (Join-Path $TestDrive 'clean-home')
        $script:Modules = $isolated.Modules
        $feed = Join-Path $TestDrive 'feed'
        $script:Work = Join-Path $TestDrive 'study'
        New-Item -ItemType Directory -Path $feed, $Work | Out-Null
        New-Gsm8kCsv (Join-Path $Work 'gsm8k.csv')
        $script = Join-Path $TestDrive 'clean-install.ps1'
        # The design card's line as written, with a small block (-Process is the second positional parameter).
        Set-Content -Path $script -Value @'
param([string] $Module, [string] $Feed, [string] $Example)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
"visible before: $(@(Get-Module -ListAvailable Checkpoint).Count)"
Register-PSResourceRepository -Name TestFeed -Uri $Feed -Trusted
Publish-PSResource -Path $Module -Repository TestFeed
Install-PSResource -Name Checkpoint -Repository TestFeed

Import-Module Checkpoint; Start-CheckpointRun -Dataset gsm8k.csv -Shard 2/4 { [pscustomobject]@{ answer = ($_.answer -split '#### ')[-1] } }
Get-CheckpointStats | Export-Csv stats.csv -NoTypeInformation

"loaded from: $((Get-Module Checkpoint).ModuleBase)"
# The shipped study script with no -Module, in a pwsh of its own that has not imported Checkpoint yet.
$example = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $Example -Dataset gsm8k.csv -Model gpt-4o -EstimatedCostPerSample 0.004 -WhatIf 2>&1 | Out-String
"example exit: $LASTEXITCODE"
"example says: $($example -replace '\s+', ' ')"
Remove-Module Checkpoint
Uninstall-PSResource -Name Checkpoint
"visible after: $(@(Get-Module -ListAvailable Checkpoint).Count)"
'@
        $example = Join-Path $RepoRoot 'examples/gsm8k-self-correction.ps1'
        $script:Run = Invoke-IsolatedPwsh $isolated -ScriptPath $script -ArgumentList $ModulePath, $feed, $example -WorkingDirectory $Work
    }

    It 'finds no Checkpoint before the install, so that the name can only resolve to the installed copy' {
        $Run.ExitCode | Should -Be 0 -Because $Run.Output
        Get-Line $Run.Output 'visible before' | Should -Be '0'
    }

    It 'imports Checkpoint by name from the installed package' {
        Get-Line $Run.Output 'loaded from' | Should -Be (Join-Path $Modules "Checkpoint/$Version")
    }

    It 'runs shard 2 of 4 and exports the stats' {
        $shardFile = @(Get-ChildItem (Join-Path $Work 'outputs') -Filter '*_gsm8k_default_*_shard-2-of-4.jsonl')
        $shardFile | Should -HaveCount 1
        $records = Read-JsonlRecord $shardFile[0].FullName
        $records | Should -Not -BeNullOrEmpty
        $records.status | Sort-Object -Unique | Should -Be 'Completed'
        $stats = @(Import-Csv (Join-Path $Work 'stats.csv'))
        $stats | Should -HaveCount 1
        $stats[0].RunId | Should -Be ($shardFile[0].BaseName -replace '_shard-2-of-4$', '')
        [int]$stats[0].CompletedSamples | Should -Be $records.Count
        [int]$stats[0].TotalSamples | Should -Be 12
    }

    It 'lets examples/gsm8k-self-correction.ps1 with no -Module find the installed module' {
        Get-Line $Run.Output 'example exit' | Should -Be '0' -Because (Get-Line $Run.Output 'example says')
        Get-Line $Run.Output 'example says' | Should -Match 'What if: .*gsm8k_gpt-4o_'
    }

    It 'is removed by Uninstall-PSResource' {
        Get-Line $Run.Output 'visible after' | Should -Be '0'
        Join-Path $Modules 'Checkpoint' | Should -Not -Exist
    }
}
