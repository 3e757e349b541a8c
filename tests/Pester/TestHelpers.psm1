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

Export-ModuleMember -Function *
