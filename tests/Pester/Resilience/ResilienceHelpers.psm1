<#
.SYNOPSIS
    Helpers shared by the Resilience.*.Tests.ps1 files: child pwsh processes (started, signalled, killed and
    always reaped with bounded waits), datasets written in the test, a strict reader of checkpoint JSONL files
    that checks every line's bytes and CRC-32C on its own, and small waiting helpers.
#>
Set-StrictMode -Version 3.0

$script:Utf8NoBom = [System.Text.UTF8Encoding]::new($false)
$script:ChildScript = Join-Path $PSScriptRoot 'Invoke-CheckpointChild.ps1'

function Get-PwshPath {
    # The real pwsh executable next to this PowerShell, never the dotnet tool shim (it does not pass signals).
    $path = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    if (-not (Test-Path -LiteralPath $path)) { throw "No pwsh executable in '$PSHOME'." }
    return $path
}

function Copy-ModuleSnapshot {
    # A copy of the module under test in $Destination, for child processes: every child of a test file then
    # loads the same build, even if output/ is rebuilt while the file runs.
    param([Parameter(Mandatory)][string] $Destination)
    $target = Join-Path $Destination 'Checkpoint'
    New-Item -ItemType Directory -Path $Destination -Force | Out-Null
    Copy-Item -LiteralPath $env:CHECKPOINT_TEST_MODULE -Destination $target -Recurse -Force
    return $target
}

function Write-Utf8File {
    # Writes exactly $Text as UTF-8 without a BOM, creating the folder.
    param([Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][AllowEmptyString()][string] $Text)
    $folder = Split-Path -Parent $Path
    if ($folder -and -not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder | Out-Null }
    [System.IO.File]::WriteAllText($Path, $Text, $script:Utf8NoBom)
    return $Path
}

function New-ResilienceCsv {
    # A CSV dataset: header, then one line per row; each row is a hashtable or ordered dictionary of the columns.
    param([Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][object[]] $Rows)
    $columns = @($Rows[0].Keys)
    $quote = { param($v) $s = [string]$v; if ($s -match '[",\r\n]') { '"' + $s.Replace('"', '""') + '"' } else { $s } }
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add(($columns -join ','))
    foreach ($row in $Rows) { $lines.Add((@($columns | ForEach-Object { & $quote $row[$_] }) -join ',')) }
    return Write-Utf8File -Path $Path -Text (($lines -join "`n") + "`n")
}

function Start-CheckpointChild {
    <#
    Starts a child pwsh that runs Start-CheckpointRun or Resume-CheckpointRun as described by $Spec (see
    Invoke-CheckpointChild.ps1), with stdout and stderr in files next to $Spec.ResultPath. Returns the Process.
    $Prefix (a command and its arguments) runs the child under another user: e.g. setpriv ... .
    #>
    param(
        [Parameter(Mandatory)][System.Collections.IDictionary] $Spec,
        [string] $Pwsh = (Get-PwshPath),
        [string[]] $Prefix = @()
    )
    $specPath = $Spec.ResultPath + '.spec.json'
    Write-Utf8File -Path $specPath -Text ($Spec | ConvertTo-Json -Depth 8) | Out-Null
    if (Test-Path -LiteralPath $Spec.ResultPath) { Remove-Item -LiteralPath $Spec.ResultPath -Force }
    $childScript = if ($Spec.Contains('ChildScript') -and $Spec.ChildScript) { $Spec.ChildScript } else { $script:ChildScript }
    $command = @($Prefix) + @($Pwsh, '-NoProfile', '-NonInteractive', '-File', $childScript, $specPath)
    foreach ($part in $command) {
        if ($part -match '\s') { throw "Child arguments must not contain white space: '$part'." }
    }
    return Start-Process -FilePath $command[0] -ArgumentList @($command | Select-Object -Skip 1) -PassThru `
        -RedirectStandardOutput ($Spec.ResultPath + '.stdout') -RedirectStandardError ($Spec.ResultPath + '.stderr')
}

function Read-ChildResult {
    # What the child wrote to its result file (summary, errors, warnings), or $null when it wrote nothing.
    param([Parameter(Mandatory)][string] $ResultPath)
    if (-not (Test-Path -LiteralPath $ResultPath)) { return $null }
    return Get-Content -LiteralPath $ResultPath -Raw | ConvertFrom-Json -Depth 10
}

function Get-ChildOutput {
    # The child's result file, stdout and stderr, for failure messages.
    param([Parameter(Mandatory)][string] $ResultPath)
    $text = foreach ($suffix in '', '.stdout', '.stderr') {
        $file = $ResultPath + $suffix
        if (Test-Path -LiteralPath $file) { "--- result$suffix ---"; Get-Content -LiteralPath $file -Raw }
    }
    return ($text -join "`n")
}

function Wait-ChildExit {
    # Waits at most $TimeoutSeconds for the process to exit; returns $true when it did, after removing what
    # the process left in the temporary folder.
    param([Parameter(Mandatory)][System.Diagnostics.Process] $Process, [double] $TimeoutSeconds = 30)
    $exited = $Process.WaitForExit([int]($TimeoutSeconds * 1000))
    if ($exited) { Remove-ProcessLeftover $Process }
    return $exited
}

function Remove-ProcessLeftover {
    <#
    A pwsh that ends by a signal (SIGKILL, and SIGTERM too) leaves in the temporary folder what the .NET
    runtime and PowerShell made there for debuggers and Enter-PSHostProcess: two clr-debug-pipe FIFOs, a
    dotnet-diagnostic socket and a CoreFxPipe_PSHost socket, named by its process id. Test run after test
    run they pile up, and a runspace opened at a location under that folder reads the whole of it. Removes
    them once $Process has exited; a process still running keeps its own.
    #>
    param([Parameter(Mandatory)][System.Diagnostics.Process] $Process)
    if (-not $Process.HasExited) { return }
    $id = $Process.Id
    $temp = [System.IO.Path]::GetTempPath()
    foreach ($pattern in "clr-debug-pipe-$id-*", "dotnet-diagnostic-$id-*", "CoreFxPipe_PSHost.*.$id.*") {
        Get-ChildItem -LiteralPath $temp -Filter $pattern -Force -ErrorAction SilentlyContinue |
            Remove-Item -Force -ErrorAction SilentlyContinue
    }
}

function Stop-ChildProcess {
    # SIGKILL when still running, then a bounded wait. Safe on processes that already exited.
    param([AllowNull()][System.Diagnostics.Process] $Process, [double] $TimeoutSeconds = 10)
    if ($null -eq $Process) { return }
    try {
        if (-not $Process.HasExited) { $Process.Kill() }
    }
    catch [System.InvalidOperationException] { }
    catch [System.ComponentModel.Win32Exception] { }
    $null = Wait-ChildExit $Process $TimeoutSeconds
}

function Wait-Condition {
    # Polls $Condition every $IntervalMilliseconds until it returns true or $TimeoutSeconds pass; returns the last result.
    param([Parameter(Mandatory)][scriptblock] $Condition, [double] $TimeoutSeconds = 30, [int] $IntervalMilliseconds = 20)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        if (& $Condition) { return $true }
        if ($clock.Elapsed.TotalSeconds -ge $TimeoutSeconds) { return $false }
        Start-Sleep -Milliseconds $IntervalMilliseconds
    }
}

function Get-LockHolderId {
    # The pid in the run's .lock.json in $OutputDirectory (the newest one), or $null.
    param([Parameter(Mandatory)][string] $OutputDirectory)
    $info = @(Get-ChildItem -LiteralPath $OutputDirectory -Filter '*.lock.json' -File -ErrorAction Ignore)
    foreach ($file in $info) {
        try { return [int](([System.IO.File]::ReadAllText($file.FullName) | ConvertFrom-Json).pid) } catch { }
    }
    return $null
}

function Wait-RunStarted {
    <#
    Waits until the child holds the run's lock (its pid is in .lock.json: the cmdlet has begun, its SIGTERM
    handler is registered and the store is open) or exits. Returns $true when the child holds the lock.
    #>
    param([Parameter(Mandatory)][System.Diagnostics.Process] $Process, [Parameter(Mandatory)][string] $OutputDirectory, [double] $TimeoutSeconds = 30)
    $held = Wait-Condition -TimeoutSeconds $TimeoutSeconds -Condition {
        $Process.HasExited -or ((Get-LockHolderId $OutputDirectory) -eq $Process.Id)
    }
    return $held -and -not $Process.HasExited
}

function Get-Crc32C {
    # CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), computed here independently of the module.
    param([Parameter(Mandatory)][byte[]] $Bytes, [int] $Offset = 0, [int] $Count = -1)
    if (-not ('ResilienceTests.Crc32C' -as [type])) {
        Add-Type -Language CSharp -TypeDefinition @'
namespace ResilienceTests
{
    public static class Crc32C
    {
        private static readonly uint[] Table = MakeTable();

        private static uint[] MakeTable()
        {
            var table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
                }

                table[i] = c;
            }

            return table;
        }

        public static uint Compute(byte[] bytes, int offset, int count)
        {
            return Update(0xFFFFFFFFu, bytes, offset, count) ^ 0xFFFFFFFFu;
        }

        private static uint Update(uint crc, byte[] bytes, int offset, int count)
        {
            for (int i = offset; i < offset + count; i++)
            {
                crc = Table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
            }

            return crc;
        }

        // True when bytes[offset, offset+count) ends with ,"crc":"xxxxxxxx"} and xxxxxxxx is the CRC-32C of
        // the bytes before that suffix followed by a closing brace.
        public static bool LineHasValidCrc(byte[] bytes, int offset, int count)
        {
            const string prefix = ",\"crc\":\"";
            int suffix = prefix.Length + 8 + 2;
            if (count < suffix + 2)
            {
                return false;
            }

            int start = offset + count - suffix;
            for (int i = 0; i < prefix.Length; i++)
            {
                if (bytes[start + i] != prefix[i])
                {
                    return false;
                }
            }

            if (bytes[offset + count - 2] != (byte)'"' || bytes[offset + count - 1] != (byte)'}')
            {
                return false;
            }

            uint stored = 0;
            for (int i = 0; i < 8; i++)
            {
                byte b = bytes[start + prefix.Length + i];
                int digit = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
                if (digit < 0)
                {
                    return false;
                }

                stored = (stored << 4) | (uint)digit;
            }

            uint crc = Update(0xFFFFFFFFu, bytes, offset, start - offset);
            crc = Update(crc, new[] { (byte)'}' }, 0, 1);
            return (crc ^ 0xFFFFFFFFu) == stored;
        }
    }

    public static class Bytes
    {
        public static int IndexOf(byte[] haystack, byte[] needle)
        {
            return System.MemoryExtensions.IndexOf(new System.ReadOnlySpan<byte>(haystack), new System.ReadOnlySpan<byte>(needle));
        }
    }
}
'@
    }
    if ($Count -lt 0) { $Count = $Bytes.Length - $Offset }
    return [ResilienceTests.Crc32C]::Compute($Bytes, $Offset, $Count)
}

function Get-RecordChecksum {
    # The crc a record line must carry: CRC-32C of the line without its ,"crc":"xxxxxxxx" part, closing brace kept.
    param([Parameter(Mandatory)][string] $Line)
    $m = [regex]::Match($Line, ',"crc":"[0-9a-f]{8}"\}\z')
    $body = if ($m.Success) { $Line.Substring(0, $m.Index) + '}' } else { $Line }
    return (Get-Crc32C -Bytes $script:Utf8NoBom.GetBytes($body)).ToString('x8')
}

function Set-RecordChecksum {
    # Replaces (or adds) the crc of a record line so that it matches its content.
    param([Parameter(Mandatory)][string] $Line)
    $m = [regex]::Match($Line, ',"crc":"[0-9a-f]{8}"\}\z')
    $body = if ($m.Success) { $Line.Substring(0, $m.Index) + '}' } else { $Line }
    $crc = Get-RecordChecksum -Line $body
    return $body.Substring(0, $body.Length - 1) + ',"crc":"' + $crc + '"}'
}

function Read-CheckpointFile {
    <#
    Reads a checkpoint JSONL byte for byte. Returns Lines (each: Number, Text, Record (parsed by ConvertFrom-Json,
    or $null), ParseError, CrcValid), EndsWithNewline, Length and Problems (one text per line that does not parse,
    has a wrong checksum, or is not valid UTF-8, plus a missing final newline). Ignores nothing.
    #>
    param([Parameter(Mandatory)][string] $Path)
    $null = Get-Crc32C -Bytes ([byte[]]::new(1))  # compiles the checker once
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    $strict = [System.Text.UTF8Encoding]::new($false, $true)
    $lines = [System.Collections.Generic.List[object]]::new()
    $problems = [System.Collections.Generic.List[string]]::new()
    $start = 0
    $number = 0
    while ($start -lt $bytes.Length) {
        $newline = [Array]::IndexOf($bytes, [byte]10, $start)
        $end = if ($newline -lt 0) { $bytes.Length } else { $newline }
        $number++
        $text = $null; $record = $null; $parseError = $null; $crcValid = $false
        try { $text = $strict.GetString($bytes, $start, $end - $start) } catch { $parseError = "not UTF-8: $($_.Exception.Message)" }
        if ($null -ne $text) {
            try { $record = ConvertFrom-Json -InputObject $text -Depth 100 -ErrorAction Stop } catch { $parseError = $_.Exception.Message }
            if ($null -eq $record -and -not $parseError) { $parseError = 'empty line' }
            $crcValid = [ResilienceTests.Crc32C]::LineHasValidCrc($bytes, $start, $end - $start)
        }
        if ($parseError) { $problems.Add("line ${number}: does not parse ($parseError)") }
        elseif (-not $crcValid) { $problems.Add("line ${number}: checksum missing or wrong") }
        $lines.Add([pscustomobject]@{ Number = $number; Text = $text; Record = $record; ParseError = $parseError; CrcValid = $crcValid })
        $start = $end + 1
    }
    $endsWithNewline = $bytes.Length -eq 0 -or $bytes[$bytes.Length - 1] -eq 10
    if (-not $endsWithNewline) { $problems.Add("the file does not end with a newline (line $number is cut)") }
    return [pscustomobject]@{
        Path            = $Path
        Length          = $bytes.Length
        Lines           = $lines.ToArray()
        Records         = @($lines | Where-Object { $null -ne $_.Record } | ForEach-Object { $_.Record })
        EndsWithNewline = $endsWithNewline
        Problems        = $problems.ToArray()
    }
}

function Get-CompletedCount {
    # Per sample id: how many completed records the parsed file holds.
    param([Parameter(Mandatory)][AllowEmptyCollection()][object[]] $Records)
    $counts = @{}
    foreach ($r in $Records) {
        if ($r.status -eq 'completed') { $counts[$r.sample_id] = 1 + ($counts[$r.sample_id] ?? 0) }
    }
    return $counts
}

function Get-LatestRecord {
    # Per sample id: its last record in file order.
    param([Parameter(Mandatory)][AllowEmptyCollection()][object[]] $Records)
    $latest = @{}
    foreach ($r in $Records) { $latest[$r.sample_id] = $r }
    return $latest
}

function Get-RunFile {
    # The one file of a run in $OutputDirectory whose name ends with $Suffix ('.jsonl', '_resume_state.json', '_errors.log').
    param([Parameter(Mandatory)][string] $OutputDirectory, [Parameter(Mandatory)][string] $Suffix)
    $found = @(Get-ChildItem -LiteralPath $OutputDirectory -File -ErrorAction Ignore | Where-Object { $_.Name.EndsWith($Suffix, [StringComparison]::Ordinal) })
    if ($found.Count -gt 1) { throw "More than one '*$Suffix' in '$OutputDirectory': $($found.Name -join ', ')" }
    if ($found.Count -eq 0) { return $null }
    return $found[0].FullName
}

function Read-StateStatus {
    # The "status" of a run's state file.
    param([Parameter(Mandatory)][string] $OutputDirectory)
    $state = Get-RunFile $OutputDirectory '_resume_state.json'
    if (-not $state) { return $null }
    return ([System.IO.File]::ReadAllText($state) | ConvertFrom-Json).status
}

function Test-BytesContain {
    # True when the file's bytes contain the UTF-8 bytes of $Text.
    param([Parameter(Mandatory)][string] $Path, [Parameter(Mandatory)][string] $Text)
    if (-not (Test-Path -LiteralPath $Path)) { return $false }
    $haystack = [System.IO.File]::ReadAllBytes($Path)
    $needle = $script:Utf8NoBom.GetBytes($Text)
    $null = Get-Crc32C -Bytes ([byte[]]::new(1))  # compiles the helper types once
    return [ResilienceTests.Bytes]::IndexOf($haystack, $needle) -ge 0
}

Export-ModuleMember -Function *
