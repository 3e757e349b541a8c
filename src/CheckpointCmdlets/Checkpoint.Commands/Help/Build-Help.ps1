<#
.SYNOPSIS
    Builds the module's help: en-US/Checkpoint.Commands.dll-Help.xml (MAML) and about_Checkpoint.help.txt.
.DESCRIPTION
    The prose comes from Checkpoint.help.psd1 beside this script; the parameter facts (type, required,
    position, pipeline input, aliases, wildcards, parameter sets, defaults) come from the built cmdlets
    themselves, read by a child pwsh that imports the module from -OutputDirectory, so the session that
    runs this script never loads the module's assemblies.

    The script fails, writing nothing, when the help and the code disagree: a cmdlet or a parameter without
    help, help for a cmdlet or parameter that does not exist, fewer than two examples, an example that does
    not parse or that passes a parameter the cmdlet does not have, or an output type not documented.
.PARAMETER OutputDirectory
    The built module's folder (the one that holds Checkpoint.psd1); the help goes into its en-US folder.
.EXAMPLE
    ./Build-Help.ps1 -OutputDirectory output/Checkpoint
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $OutputDirectory
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$HelpSource = Join-Path $PSScriptRoot 'Checkpoint.help.psd1'
$AboutSource = Join-Path $PSScriptRoot 'about_Checkpoint.help.txt'
$HelpFileName = 'Checkpoint.Commands.dll-Help.xml'
$Culture = 'en-US'

$NsMsh = 'http://msh'
$NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$NsMSHelp = 'http://msdn.microsoft.com/mshelp'

# The keys a command's entry and a parameter's entry in the psd1 may have; any other key is a typo.
$CommandKeys = 'Synopsis', 'Description', 'Parameters', 'Examples', 'Inputs', 'Outputs', 'Notes', 'RelatedLinks'
$ParameterKeys = 'Description', 'DefaultValue', 'Wildcards'
$ExampleKeys = 'Title', 'Code', 'Remarks'
$TypeKeys = 'Type', 'Description'

# What -WhatIf and -Confirm say unless the psd1 says otherwise.
$ShouldProcessText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

# Runs in a child pwsh: imports the built module and writes the facts of every exported cmdlet as JSON.
$FactsScript = @'
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
try {
    $module = Import-Module (Join-Path $ModuleDirectory 'Checkpoint.psd1') -PassThru -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $optional = [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

    function ConvertTo-DefaultText([object] $value) {
        if ($null -eq $value) { return $null }
        if ($value -is [System.Management.Automation.SwitchParameter]) { return [string]$value.IsPresent }
        if ($value -is [string]) { return ($value.Length -eq 0) ? $null : $value }
        if ($value -is [scriptblock]) { return ($value.ToString().Trim().Length -eq 0) ? $null : $value.ToString() }
        if ($value -is [System.Collections.IDictionary]) { return ($value.Count -eq 0) ? $null : ($value | Out-String).Trim() }
        if ($value -is [array]) { return ($value.Count -eq 0) ? $null : (($value | ForEach-Object { [string]$_ }) -join ', ') }
        if ($value -is [IFormattable]) { return $value.ToString($null, [System.Globalization.CultureInfo]::InvariantCulture) }
        return [string]$value
    }

    function Get-TypeText([type] $type) {
        $inner = [Nullable]::GetUnderlyingType($type)
        if ($inner) { $type = $inner }
        return $type
    }

    $commands = foreach ($cmd in ($module.ExportedCmdlets.Values | Sort-Object Name)) {
        $instance = [Activator]::CreateInstance($cmd.ImplementingType)
        # Declaration order: the cmdlet's own properties, then those of its base classes.
        $declared = @($cmd.ImplementingType.GetProperties() | ForEach-Object Name)
        $ownNames = @($cmd.Parameters.Keys | Where-Object { $_ -notin $common -and $_ -notin $optional })
        $ownNames = @($ownNames | Sort-Object { $i = $declared.IndexOf($_); ($i -lt 0) ? [int]::MaxValue : $i })
        $supportsShouldProcess = $cmd.Parameters.ContainsKey('WhatIf')

        $parameters = foreach ($name in $ownNames + @(if ($supportsShouldProcess) { 'WhatIf', 'Confirm' })) {
            $p = $cmd.Parameters[$name]
            $type = Get-TypeText $p.ParameterType
            $enumValues = @(if ($type.IsEnum) { [Enum]::GetNames($type) })
            $validateSet = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } |
                    ForEach-Object { $_.ValidValues })
            $default = $p.SwitchParameter ? 'False' : $null
            if ($name -in $ownNames) {
                $property = $cmd.ImplementingType.GetProperty($name)
                if ($property) { $default = ConvertTo-DefaultText ($property.GetValue($instance)) }
            }
            [ordered]@{
                Name         = $name
                TypeName     = $type.Name
                TypeFullName = $type.FullName
                IsSwitch     = $p.SwitchParameter
                IsArray      = $type.IsArray
                Aliases      = @($p.Aliases)
                Wildcards    = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                Values       = @($enumValues + $validateSet)
                Default      = $default
                IsCommon     = $name -notin $ownNames
                Sets         = @($p.ParameterSets.GetEnumerator() | ForEach-Object {
                        $a = $_.Value
                        [ordered]@{
                            Set            = $_.Key
                            Mandatory      = $a.IsMandatory
                            Position       = ($a.Position -eq [int]::MinValue) ? $null : $a.Position
                            ByValue        = $a.ValueFromPipeline
                            ByPropertyName = $a.ValueFromPipelineByPropertyName
                        }
                    })
            }
        }

        [ordered]@{
            Name                  = $cmd.Name
            Verb                  = $cmd.Verb
            Noun                  = $cmd.Noun
            SupportsShouldProcess = $supportsShouldProcess
            DefaultParameterSet   = $cmd.DefaultParameterSet
            ParameterSets         = @($cmd.ParameterSets | ForEach-Object Name)
            OutputTypes           = @($cmd.OutputType | ForEach-Object Name | Where-Object { $_ -ne 'System.Void' })
            Parameters            = @($parameters)
        }
    }
    ConvertTo-Json -InputObject @($commands) -Depth 10 | Set-Content -LiteralPath $FactsPath -Encoding utf8
    exit 0
}
catch {
    [Console]::Error.WriteLine(($_ | Out-String))
    exit 1
}
'@

function Get-CmdletFacts {
    # Reads the facts of the built cmdlets in a child process; the DLL never loads in this session.
    param([Parameter(Mandatory)][string] $ModuleDirectory)

    $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    if (-not (Test-Path -LiteralPath $pwsh)) { throw "Build-Help: no pwsh executable in '$PSHOME'." }
    $factsPath = [System.IO.Path]::GetTempFileName()
    try {
        $escape = [System.Management.Automation.Language.CodeGeneration]::EscapeSingleQuotedStringContent
        $script = "`$ModuleDirectory = '$($escape.Invoke($ModuleDirectory))'`n" +
        "`$FactsPath = '$($escape.Invoke($factsPath))'`n" + $FactsScript
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($script))
        # Anything the child prints (a warning, say) is shown, never mixed into the facts this function returns.
        & $pwsh -NoProfile -NonInteractive -EncodedCommand $encoded | ForEach-Object { Write-Host $_ }
        if ($LASTEXITCODE -ne 0) {
            throw "Build-Help: reading the cmdlets of '$ModuleDirectory' in a child pwsh failed (exit code $LASTEXITCODE)."
        }
        return @(Get-Content -LiteralPath $factsPath -Raw | ConvertFrom-Json -AsHashtable)
    }
    finally {
        Remove-Item -LiteralPath $factsPath -Force -ErrorAction SilentlyContinue
    }
}

function Test-Text([object] $value) {
    return ($value -is [string]) -and $value.Trim().Length -gt 0
}

function Get-ParameterHelp {
    # A parameter's entry in the psd1 is its description, or a hashtable with Description, DefaultValue, Wildcards.
    param([object] $Entry)
    if ($Entry -is [System.Collections.IDictionary]) { return $Entry }
    return @{ Description = $Entry }
}

function Test-HelpSource {
    # Returns every way in which the psd1 and the cmdlets disagree (empty when they agree).
    param([hashtable] $Help, [object[]] $Facts)

    $problems = [System.Collections.Generic.List[string]]::new()
    $commands = $Help['Commands']
    if ($commands -isnot [System.Collections.IDictionary]) {
        $problems.Add("the psd1 has no 'Commands' table.")
        return $problems
    }

    $factNames = @($Facts | ForEach-Object { $_.Name })
    foreach ($name in $commands.Keys) {
        if ($name -notin $factNames) { $problems.Add("the psd1 documents '$name', which the module does not export.") }
    }

    foreach ($cmd in $Facts) {
        $name = $cmd.Name
        $entry = $commands[$name]
        if ($entry -isnot [System.Collections.IDictionary]) {
            $problems.Add("${name}: no help in the psd1.")
            continue
        }

        foreach ($key in $entry.Keys) {
            if ($key -notin $CommandKeys) { $problems.Add("${name}: unknown key '$key' (expected one of $($CommandKeys -join ', ')).") }
        }
        if (-not (Test-Text $entry['Synopsis'])) { $problems.Add("${name}: no Synopsis.") }
        if (-not (Test-Text $entry['Description'])) { $problems.Add("${name}: no Description.") }

        # Parameters: every parameter of the cmdlet described, and nothing described that does not exist.
        $documented = $entry['Parameters']
        if ($null -eq $documented) { $documented = @{} }
        if ($documented -isnot [System.Collections.IDictionary]) {
            $problems.Add("${name}: Parameters must be a table of parameter name to description.")
            $documented = @{}
        }
        $real = @($cmd.Parameters | ForEach-Object { $_.Name })
        foreach ($p in $cmd.Parameters) {
            if ($p.IsCommon) { continue }
            $text = if ($documented.Contains($p.Name)) { (Get-ParameterHelp $documented[$p.Name])['Description'] }
            if (-not (Test-Text $text)) { $problems.Add("${name}: parameter -$($p.Name) has no description.") }
        }
        foreach ($key in $documented.Keys) {
            if ($key -notin $real) {
                $problems.Add("${name}: the psd1 describes parameter -$key, which the cmdlet does not have.")
                continue
            }
            $paramEntry = Get-ParameterHelp $documented[$key]
            foreach ($k in $paramEntry.Keys) {
                if ($k -notin $ParameterKeys) { $problems.Add("${name}: parameter -${key}: unknown key '$k'.") }
            }
        }

        # Examples: at least two, each with code that parses, calls the module's cmdlets with real parameters only,
        # and remarks.
        $examples = @($entry['Examples'] | Where-Object { $null -ne $_ })
        if ($examples.Count -lt 2) { $problems.Add("${name}: $($examples.Count) example(s); at least 2 are required.") }
        $i = 0
        foreach ($example in $examples) {
            $i++
            if ($example -isnot [System.Collections.IDictionary]) {
                $problems.Add("${name}: example $i is not a table with Code and Remarks.")
                continue
            }
            foreach ($k in $example.Keys) {
                if ($k -notin $ExampleKeys) { $problems.Add("${name}: example ${i}: unknown key '$k'.") }
            }
            if (-not (Test-Text $example['Remarks'])) { $problems.Add("${name}: example $i has no Remarks.") }
            if (-not (Test-Text $example['Code'])) {
                $problems.Add("${name}: example $i has no Code.")
                continue
            }
            foreach ($problem in (Test-ExampleCode -Code $example['Code'] -Facts $Facts)) {
                $problems.Add("${name}: example ${i}: $problem")
            }
        }

        # Inputs and outputs: typed, described, and every declared [OutputType] documented.
        foreach ($section in 'Inputs', 'Outputs') {
            $items = @($entry[$section] | Where-Object { $null -ne $_ })
            if ($items.Count -eq 0) { $problems.Add("${name}: no $section (write Type = 'None' when there are none).") }
            foreach ($item in $items) {
                if ($item -isnot [System.Collections.IDictionary] -or -not (Test-Text $item['Type']) -or -not (Test-Text $item['Description'])) {
                    $problems.Add("${name}: every entry of $section needs a Type and a Description.")
                    continue
                }
                foreach ($k in $item.Keys) {
                    if ($k -notin $TypeKeys) { $problems.Add("${name}: ${section}: unknown key '$k'.") }
                }
            }
            if ($section -eq 'Outputs') {
                $documentedTypes = @($items | Where-Object { $_ -is [System.Collections.IDictionary] } | ForEach-Object { $_['Type'] })
                foreach ($type in $cmd.OutputTypes) {
                    if ($type -notin $documentedTypes) { $problems.Add("${name}: the cmdlet outputs $type, which Outputs does not document.") }
                }
            }
        }

        foreach ($link in @($entry['RelatedLinks'] | Where-Object { $null -ne $_ })) {
            $text = ($link -is [System.Collections.IDictionary]) ? $link['Text'] : $link
            if (-not (Test-Text $text)) { $problems.Add("${name}: a related link has no text.") }
        }
    }

    return $problems
}

function Test-ExampleCode {
    # Parses an example and checks that every call of one of the module's cmdlets passes only parameters it has.
    param([string] $Code, [object[]] $Facts)

    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$tokens, [ref]$errors)
    foreach ($e in $errors) { "does not parse: $($e.Message) (line $($e.Extent.StartLineNumber))." }
    if ($errors.Count -gt 0) { return }

    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters

    # The keys of hashtable literals assigned to variables ($retry = @{ MaxRetries = 6 }), for splatting (@retry).
    $splats = @{}
    $assignments = $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.AssignmentStatementAst] }, $true)
    foreach ($assignment in $assignments) {
        $right = $assignment.Right
        if ($right -is [System.Management.Automation.Language.PipelineAst] -and $right.PipelineElements.Count -eq 1) {
            $right = $right.PipelineElements[0]
        }
        $table = ($right -is [System.Management.Automation.Language.CommandExpressionAst]) ? $right.Expression : $null
        if ($assignment.Left -is [System.Management.Automation.Language.VariableExpressionAst] -and
            $table -is [System.Management.Automation.Language.HashtableAst]) {
            $splats[$assignment.Left.VariablePath.UserPath] = @($table.KeyValuePairs | ForEach-Object Item1 |
                    Where-Object { $_ -is [System.Management.Automation.Language.StringConstantExpressionAst] } | ForEach-Object Value)
        }
    }

    $calls = $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true)
    foreach ($call in $calls) {
        $cmd = $Facts | Where-Object { $_.Name -eq $call.GetCommandName() } | Select-Object -First 1
        if (-not $cmd) { continue }
        $names = @($cmd.Parameters | ForEach-Object { $_.Name; $_.Aliases }) + $common
        foreach ($element in $call.CommandElements) {
            if ($element -is [System.Management.Automation.Language.CommandParameterAst] -and $element.ParameterName -notin $names) {
                "$($cmd.Name) has no parameter -$($element.ParameterName)."
            }
            if ($element -is [System.Management.Automation.Language.VariableExpressionAst] -and $element.Splatted -and
                $splats.ContainsKey($element.VariablePath.UserPath)) {
                foreach ($key in $splats[$element.VariablePath.UserPath]) {
                    if ($key -notin $names) { "$($cmd.Name) has no parameter -$key (splatted from @$($element.VariablePath.UserPath))." }
                }
            }
        }
    }
}

function ConvertTo-Paragraph {
    # Splits prose into paragraphs at blank lines. Within a paragraph, lines are joined with spaces, except
    # lines that start with '- ', '* ' or whitespace (list items and code), which keep their own line.
    param([AllowNull()][string] $Text)

    if ($null -eq $Text) { return }
    $normalized = $Text.Replace("`r`n", "`n").Trim("`n")
    foreach ($block in [regex]::Split($normalized, "\n[ \t]*\n")) {
        $lines = [System.Collections.Generic.List[string]]::new()
        foreach ($line in $block.Split("`n")) {
            $trimmed = $line.TrimEnd()
            if ($trimmed.Length -eq 0) { continue }
            if ($lines.Count -eq 0 -or $trimmed -match '^(\s|- |\* )') {
                $lines.Add($trimmed)
            }
            else {
                $lines[$lines.Count - 1] = $lines[$lines.Count - 1] + ' ' + $trimmed.TrimStart()
            }
        }
        if ($lines.Count -gt 0) { $lines -join "`n" }
    }
}

function Write-Paragraphs {
    # <maml:description> (or another maml element) holding one <maml:para> per paragraph.
    param([System.Xml.XmlWriter] $Writer, [string] $Text, [string] $Element = 'description')
    $Writer.WriteStartElement('maml', $Element, $NsMaml)
    foreach ($para in (ConvertTo-Paragraph $Text)) {
        $Writer.WriteElementString('maml', 'para', $NsMaml, $para)
    }
    $Writer.WriteEndElement()
}

function Get-PipelineText([object[]] $Sets) {
    $kinds = @()
    if ($Sets | Where-Object { $_.ByValue }) { $kinds += 'ByValue' }
    if ($Sets | Where-Object { $_.ByPropertyName }) { $kinds += 'ByPropertyName' }
    return ($kinds.Count -eq 0) ? 'False' : "True ($($kinds -join ', '))"
}

function Write-Parameter {
    # One <command:parameter>: for the syntax of one parameter set ($Set), or for the parameters section.
    param([System.Xml.XmlWriter] $Writer, [hashtable] $Parameter, [hashtable] $Help, [string] $Set)

    $sets = @($Parameter.Sets)
    if ($Set) { $sets = @($sets | Where-Object { $_.Set -eq $Set -or $_.Set -eq '__AllParameterSets' } | Select-Object -First 1) }
    $positions = @($sets | Where-Object { $null -ne $_.Position } | ForEach-Object { $_.Position } | Sort-Object -Unique)
    $required = [bool]($sets | Where-Object { $_.Mandatory })
    $globbing = [bool]$Parameter.Wildcards -or [bool]$Help['Wildcards']
    $aliases = @($Parameter.Aliases)

    $Writer.WriteStartElement('command', 'parameter', $NsCommand)
    $Writer.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', ([bool]$Parameter.IsArray).ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', $globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', (Get-PipelineText $sets))
    $Writer.WriteAttributeString('position', ($positions.Count -gt 0) ? ($positions -join ', ') : 'named')
    $Writer.WriteAttributeString('aliases', ($aliases.Count -gt 0) ? ($aliases -join ', ') : 'none')
    $Writer.WriteElementString('maml', 'name', $NsMaml, $Parameter.Name)
    Write-Paragraphs $Writer $Help['Description']

    $values = @($Parameter.Values)
    if ($values.Count -gt 0) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $NsCommand)
        foreach ($value in $values) {
            $Writer.WriteStartElement('command', 'parameterValue', $NsCommand)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('command', 'variableLength', $NsCommand, 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    if (-not $Set -or -not $Parameter.IsSwitch) {
        $Writer.WriteStartElement('command', 'parameterValue', $NsCommand)
        $Writer.WriteAttributeString('required', (-not $Parameter.IsSwitch).ToString().ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', ([bool]$Parameter.IsArray).ToString().ToLowerInvariant())
        $Writer.WriteString($Parameter.TypeName)
        $Writer.WriteEndElement()
    }
    $Writer.WriteStartElement('dev', 'type', $NsDev)
    $Writer.WriteElementString('maml', 'name', $NsMaml, $Parameter.TypeFullName)
    $Writer.WriteElementString('maml', 'uri', $NsMaml, '')
    $Writer.WriteEndElement()
    $default = $Help['DefaultValue']
    if ($null -eq $default) { $default = $Parameter.Default }
    if ($null -eq $default) { $default = 'None' }
    $Writer.WriteElementString('dev', 'defaultValue', $NsDev, [string]$default)
    $Writer.WriteEndElement()
}

function Get-SyntaxOrder {
    # The parameters of one set as Get-Help shows them: positional by position, then mandatory, then the rest
    # in declaration order, then -WhatIf and -Confirm.
    param([hashtable] $Command, [string] $Set)
    $index = 0
    $Command.Parameters | ForEach-Object {
        $p = $_
        $a = @($p.Sets | Where-Object { $_.Set -eq $Set -or $_.Set -eq '__AllParameterSets' }) | Select-Object -First 1
        if ($a) {
            [pscustomobject]@{
                Parameter = $p
                Group     = $p.IsCommon ? 3 : (($null -ne $a.Position) ? 0 : ($a.Mandatory ? 1 : 2))
                Position  = ($null -ne $a.Position) ? $a.Position : 0
                Index     = $index
            }
        }
        $index++
    } | Sort-Object Group, Position, Index | ForEach-Object Parameter
}

function Write-TypeList {
    param([System.Xml.XmlWriter] $Writer, [object[]] $Items, [string] $ListElement, [string] $ItemElement)
    $Writer.WriteStartElement('command', $ListElement, $NsCommand)
    foreach ($item in $Items) {
        $Writer.WriteStartElement('command', $ItemElement, $NsCommand)
        $Writer.WriteStartElement('dev', 'type', $NsDev)
        $Writer.WriteElementString('maml', 'name', $NsMaml, $item['Type'])
        $Writer.WriteEndElement()
        Write-Paragraphs $Writer $item['Description']
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()
}

function Write-Command {
    param([System.Xml.XmlWriter] $Writer, [hashtable] $Command, [System.Collections.IDictionary] $Help)

    $documented = $Help['Parameters']
    if ($null -eq $documented) { $documented = @{} }
    $paramHelp = @{}
    foreach ($p in $Command.Parameters) {
        $entry = $documented.Contains($p.Name) ? (Get-ParameterHelp $documented[$p.Name]) : @{}
        if ($p.IsCommon -and -not (Test-Text $entry['Description'])) {
            $entry = @{ Description = $ShouldProcessText[$p.Name] }
        }
        $paramHelp[$p.Name] = $entry
    }

    $Writer.WriteStartElement('command', 'command', $NsCommand)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $NsMaml)
    $Writer.WriteAttributeString('xmlns', 'command', $null, $NsCommand)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $NsDev)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, $NsMSHelp)

    $Writer.WriteStartElement('command', 'details', $NsCommand)
    $Writer.WriteElementString('command', 'name', $NsCommand, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $NsCommand, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $NsCommand, $Command.Noun)
    Write-Paragraphs $Writer $Help['Synopsis']
    $Writer.WriteEndElement()

    Write-Paragraphs $Writer $Help['Description']

    # Syntax: one item per parameter set, the default set first.
    $Writer.WriteStartElement('command', 'syntax', $NsCommand)
    $sets = @($Command.ParameterSets | Sort-Object { $_ -ne $Command.DefaultParameterSet }, { $Command.ParameterSets.IndexOf($_) })
    foreach ($set in $sets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $NsCommand)
        $Writer.WriteElementString('maml', 'name', $NsMaml, $Command.Name)
        foreach ($p in (Get-SyntaxOrder -Command $Command -Set $set)) {
            Write-Parameter -Writer $Writer -Parameter $p -Help $paramHelp[$p.Name] -Set $set
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    # Parameters: each once, positional first, then in declaration order.
    $Writer.WriteStartElement('command', 'parameters', $NsCommand)
    $ordered = $Command.Parameters | Sort-Object { $_.IsCommon }, {
        $positions = @($_.Sets | Where-Object { $null -ne $_.Position } | ForEach-Object { $_.Position })
        ($positions.Count -gt 0) ? ($positions | Measure-Object -Minimum).Minimum : [int]::MaxValue
    }, { $Command.Parameters.IndexOf($_) }
    foreach ($p in $ordered) {
        Write-Parameter -Writer $Writer -Parameter $p -Help $paramHelp[$p.Name]
    }
    $Writer.WriteEndElement()

    Write-TypeList $Writer @($Help['Inputs']) 'inputTypes' 'inputType'
    Write-TypeList $Writer @($Help['Outputs']) 'returnValues' 'returnValue'

    if (Test-Text $Help['Notes']) {
        $Writer.WriteStartElement('maml', 'alertSet', $NsMaml)
        $Writer.WriteStartElement('maml', 'alert', $NsMaml)
        foreach ($para in (ConvertTo-Paragraph $Help['Notes'])) {
            $Writer.WriteElementString('maml', 'para', $NsMaml, $para)
        }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('command', 'examples', $NsCommand)
    $i = 0
    foreach ($example in @($Help['Examples'])) {
        $i++
        $title = "Example ${i}" + ((Test-Text $example['Title']) ? ": $($example['Title'].Trim())" : '')
        $Writer.WriteStartElement('command', 'example', $NsCommand)
        $Writer.WriteElementString('maml', 'title', $NsMaml, "--------- $title ---------")
        $Writer.WriteElementString('dev', 'code', $NsDev, $example['Code'].Replace("`r`n", "`n").Trim("`n"))
        $Writer.WriteStartElement('dev', 'remarks', $NsDev)
        foreach ($para in (ConvertTo-Paragraph $example['Remarks'])) {
            $Writer.WriteElementString('maml', 'para', $NsMaml, $para)
        }
        # An empty last paragraph: Get-Help then leaves a blank line before the next example.
        $Writer.WriteElementString('maml', 'para', $NsMaml, '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $NsCommand)
    foreach ($link in @($Help['RelatedLinks'] | Where-Object { $null -ne $_ })) {
        $text = ($link -is [System.Collections.IDictionary]) ? $link['Text'] : $link
        $uri = ($link -is [System.Collections.IDictionary] -and $link['Uri']) ? $link['Uri'] : ''
        $Writer.WriteStartElement('maml', 'navigationLink', $NsMaml)
        $Writer.WriteElementString('maml', 'linkText', $NsMaml, $text)
        $Writer.WriteElementString('maml', 'uri', $NsMaml, $uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

# --- main ---

$moduleDirectory = (Resolve-Path -LiteralPath $OutputDirectory).ProviderPath
if (-not (Test-Path -LiteralPath $HelpSource)) { throw "Build-Help: '$HelpSource' is missing." }
if (-not (Test-Path -LiteralPath $AboutSource)) { throw "Build-Help: '$AboutSource' is missing." }

$help = Import-PowerShellDataFile -LiteralPath $HelpSource
$facts = Get-CmdletFacts -ModuleDirectory $moduleDirectory
if ($facts.Count -eq 0) { throw "Build-Help: the module in '$moduleDirectory' exports no cmdlets." }

$problems = @(Test-HelpSource -Help $help -Facts $facts)
if ($problems.Count -gt 0) {
    throw ("Build-Help: the help in '$HelpSource' does not match the cmdlets:`n  " + ($problems -join "`n  "))
}

$cultureDirectory = Join-Path $moduleDirectory $Culture
New-Item -ItemType Directory -Path $cultureDirectory -Force | Out-Null
$helpPath = Join-Path $cultureDirectory $HelpFileName

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$settings.NewLineChars = "`n"
$writer = [System.Xml.XmlWriter]::Create($helpPath, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', $NsMsh)
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($command in $facts) {
        Write-Command -Writer $writer -Command $command -Help $help['Commands'][$command.Name]
    }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
}
finally {
    $writer.Dispose()
}

Copy-Item -LiteralPath $AboutSource -Destination $cultureDirectory -Force
Write-Host "Built help for $($facts.Count) cmdlets at $helpPath"
