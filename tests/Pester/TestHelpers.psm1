<#
.SYNOPSIS
    Small helpers shared by the Cmdlets.*.Tests.ps1 files: datasets written in the test, a fresh folder per
    test, stream splitting, JSONL reading, and call logs that survive a resume's stored -Process block.
#>
Set-StrictMode -Version 3.0

$script:Utf8NoBom = [System.Text.UTF8Encoding]::new($false)

function New-TestDirectory {
    # A fresh, empty folder under the test drive, so that no two tests share an output directory.
    param([Parameter(Mandatory)][string] $Root)
    $path = Join-Path $Root ([guid]::NewGuid().ToString('n').Substring(0, 12))
    New-Item -ItemType Directory -Path $path | Out-Null
    return $path
}

function Write-TextFile {
    # Writes exactly $Text (UTF-8, no BOM, no newline added), creating the folder.
    param([Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][AllowEmptyString()][string] $Text)
    $folder = Split-Path -Parent $Path
    if ($folder -and -not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder | Out-Null }
    [System.IO.File]::WriteAllText($Path, $Text, $script:Utf8NoBom)
    return $Path
}

function New-TestCsv {
    # id,question,answer with ids {prefix}1..{prefix}N and answer = 10 * i.
    param([Parameter(Mandatory)][string] $Path, [int] $Count = 5, [string] $IdPrefix = 'q')
    $lines = @('id,question,answer') + @(1..$Count | ForEach-Object { "$IdPrefix$_,What is $_ times ten?,$($_ * 10)" })
    return Write-TextFile -Path $Path -Text (($lines -join "`n") + "`n")
}

function New-TestJsonl {
    # One object a line: {"id":"{prefix}i","question":"...","answer":10*i}.
    param([Parameter(Mandatory)][string] $Path, [int] $Count = 5, [string] $IdPrefix = 'q')
    $lines = @(1..$Count | ForEach-Object { '{"id":"' + $IdPrefix + $_ + '","question":"What is ' + $_ + ' times ten?","answer":' + ($_ * 10) + '}' })
    return Write-TextFile -Path $Path -Text (($lines -join "`n") + "`n")
}

function Get-VerboseMessage {
    # The messages of the VerboseRecords in a merged (4>&1) output.
    param([AllowNull()][object[]] $Merged)
    return @($Merged | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { $_.Message })
}

function Get-PipelineObject {
    # The objects of a merged (4>&1) output that are not verbose records, optionally of one type.
    param([AllowNull()][object[]] $Merged, [string] $TypeName)
    $objects = @($Merged | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
    if ($TypeName) { $objects = @($objects | Where-Object { $_.GetType().FullName -eq $TypeName }) }
    return , $objects
}

function Read-JsonlRecord {
    # Every line of a checkpoint JSONL file, parsed.
    param([Parameter(Mandatory)][string] $Path)
    return @(Get-Content -LiteralPath $Path | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json -Depth 100 })
}

function Get-FileTree {
    # Every file and folder under $Path, as sorted relative paths ('/' separators); nothing when it does not exist.
    param([Parameter(Mandatory)][string] $Path)
    if (-not (Test-Path -LiteralPath $Path)) { return }
    $root = (Resolve-Path -LiteralPath $Path).ProviderPath.TrimEnd('/', '\')
    Get-ChildItem -LiteralPath $root -Recurse -Force | ForEach-Object {
        $_.FullName.Substring($root.Length + 1).Replace('\', '/')
    } | Sort-Object
}

function Get-FileHashTable {
    # name -> SHA-256 of every file directly in $Path: compares folders byte for byte.
    param([Parameter(Mandatory)][string] $Path)
    $table = [ordered]@{}
    foreach ($file in Get-ChildItem -LiteralPath $Path -File -Force | Sort-Object Name) {
        $table[$file.Name] = (Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash
    }
    return $table
}

function New-LoggedBlock {
    # A -Process block whose text names its log file literally, so that it logs its calls (one sample id a
    # line) even when Resume-CheckpointRun rebuilds it from the state file, where no test variable exists.
    param([Parameter(Mandatory)][string] $Log, [string] $Body = '$_.answer')
    $quoted = "'" + $Log.Replace("'", "''") + "'"
    return [scriptblock]::Create("Add-Content -LiteralPath $quoted -Value `$_.id`n$Body")
}

function Get-LoggedCall {
    # The sample ids a logged block was called with, in call order.
    param([Parameter(Mandatory)][string] $Log)
    if (-not (Test-Path -LiteralPath $Log)) { return }
    Get-Content -LiteralPath $Log
}

function Get-TodayStamp {
    # The date part of a run id started now (run ids are dated in UTC).
    return [DateTime]::UtcNow.ToString('yyyyMMdd', [cultureinfo]::InvariantCulture)
}

function New-IsolatedHome {
    # A home folder for a child pwsh of its own. On Linux and macOS the user's module folder, PSResourceGet's
    # repository list and PowerShell's caches all live under HOME (or the XDG folders set from it), so what
    # the child registers or installs there never reaches the user's own. On Windows the module folder is the
    # Documents folder, which no environment variable moves: callers skip there.
    param([Parameter(Mandatory)][string] $Path)
    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    $modules = Join-Path $Path '.local/share/powershell/Modules'
    New-Item -ItemType Directory -Path $modules -Force | Out-Null
    return [pscustomobject]@{ Home = (Resolve-Path -LiteralPath $Path).ProviderPath; Modules = (Resolve-Path -LiteralPath $modules).ProviderPath }
}

function Invoke-IsolatedPwsh {
    # Runs a script file in a child pwsh whose HOME is $IsolatedHome.Home and whose PSModulePath starts from
    # that home's module folder alone (pwsh adds its own shared and PSHOME folders). Returns the exit code and
    # the text the child wrote to stdout and stderr.
    param(
        [Parameter(Mandatory)][object] $IsolatedHome,
        [Parameter(Mandatory)][string] $ScriptPath,
        [string[]] $ArgumentList = @(),
        [string] $WorkingDirectory = (Get-Location).ProviderPath,
        [int] $TimeoutSeconds = 120
    )
    $info = [System.Diagnostics.ProcessStartInfo]::new((Join-Path $PSHOME 'pwsh'))
    foreach ($argument in @('-NoProfile', '-NonInteractive', '-File', $ScriptPath) + $ArgumentList) { $info.ArgumentList.Add($argument) }
    $info.WorkingDirectory = $WorkingDirectory
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $homePath = $IsolatedHome.Home
    $info.Environment['HOME'] = $homePath
    $info.Environment['XDG_DATA_HOME'] = Join-Path $homePath '.local/share'
    $info.Environment['XDG_CONFIG_HOME'] = Join-Path $homePath '.config'
    $info.Environment['XDG_CACHE_HOME'] = Join-Path $homePath '.cache'
    $info.Environment['PSModulePath'] = $IsolatedHome.Modules
    $info.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
    $process = [System.Diagnostics.Process]::Start($info)
    try {
        $stderr = $process.StandardError.ReadToEndAsync()
        $stdout = $process.StandardOutput.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
            $process.Kill($true)
            throw "The child pwsh running $ScriptPath did not end within $TimeoutSeconds s."
        }
        $process.WaitForExit()
        return [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result + $stderr.Result }
    }
    finally {
        $process.Dispose()
    }
}

Export-ModuleMember -Function *
