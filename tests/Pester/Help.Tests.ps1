# The help of the built module: every cmdlet has real MAML help (synopsis, description, every parameter
# described, examples), and about_Checkpoint is there. The test cases come from the module itself, so a
# cmdlet or parameter added without help fails here too (Build-Help.ps1 also refuses to build it).

BeforeDiscovery {
    Import-Module $env:CHECKPOINT_TEST_MODULE -Force
    $skip = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $script:Cmdlets = foreach ($cmd in (Get-Command -Module Checkpoint -CommandType Cmdlet | Sort-Object Name)) {
        @{
            Name       = $cmd.Name
            Parameters = @($cmd.Parameters.Keys | Where-Object { $_ -notin $skip } | Sort-Object | ForEach-Object { @{ Parameter = $_ } })
        }
    }
}

BeforeAll {
    $script:ModulePath = $env:CHECKPOINT_TEST_MODULE
    Import-Module $ModulePath -Force
    $script:ModuleBase = (Get-Module Checkpoint).ModuleBase
    $script:CommonNames = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
    $script:Expected = @('Clear-CheckpointCache', 'Get-CheckpointCache', 'Get-CheckpointResult', 'Get-CheckpointStats', 'Remove-Checkpoint', 'Resume-CheckpointRun', 'Start-CheckpointRun')

    function Get-ParaText([object] $Node) {
        # The text of a MAML description (one object or several paragraphs), trimmed.
        return ((@($Node) | ForEach-Object { $_.Text }) -join "`n").Trim()
    }
}

Describe 'The module''s help files' {
    It 'exports the five cmdlets that the help covers' {
        (Get-Command -Module Checkpoint -CommandType Cmdlet).Name | Sort-Object | Should -Be $Expected
    }

    It 'has en-US/Checkpoint.Commands.dll-Help.xml, a MAML file with one command per cmdlet' {
        $path = Join-Path $ModuleBase 'en-US/Checkpoint.Commands.dll-Help.xml'
        $path | Should -Exist
        $xml = [xml](Get-Content -LiteralPath $path -Raw)
        $xml.DocumentElement.LocalName | Should -Be 'helpItems'
        $xml.DocumentElement.NamespaceURI | Should -Be 'http://msh'
        $xml.DocumentElement.GetAttribute('schema') | Should -Be 'maml'
        $ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $names = $xml.SelectNodes('//command:command/command:details/command:name', $ns) | ForEach-Object InnerText
        $names | Sort-Object | Should -Be $Expected
    }

    It 'has en-US/about_Checkpoint.help.txt with lines under 100 characters' {
        $path = Join-Path $ModuleBase 'en-US/about_Checkpoint.help.txt'
        $path | Should -Exist
        $long = @(Get-Content -LiteralPath $path | Where-Object { $_.Length -ge 100 })
        $long | Should -BeNullOrEmpty -Because 'about topics are read in consoles'
    }
}

Describe 'Get-Help <Name>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Command = Get-Command $Name
        $script:Help = Get-Help $Name -Full
    }

    It 'comes from the module''s help file' {
        Split-Path -Leaf $Command.HelpFile | Should -Be 'Checkpoint.Commands.dll-Help.xml'
        $Help.PSObject.TypeNames | Should -Contain 'MamlCommandHelpInfo'
    }

    It 'has a synopsis that is not the generated syntax' {
        $synopsis = "$($Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Name*"
        $synopsis | Should -Not -Match '\[-\w+|<\w+(\[\])?>'
    }

    It 'has a description of several sentences' {
        $text = Get-ParaText $Help.description
        $text | Should -Not -BeNullOrEmpty
        $text.Length | Should -BeGreaterThan 200
    }

    It 'describes -<Parameter>' -ForEach $Parameters {
        $entry = @($Help.parameters.parameter | Where-Object { $_.name -eq $Parameter })
        $entry.Count | Should -Be 1 -Because "-$Parameter must appear once in the parameters section"
        Get-ParaText $entry[0].description | Should -Not -BeNullOrEmpty
    }

    It 'documents no parameter the cmdlet does not have' {
        $real = @($Command.Parameters.Keys)
        @($Help.parameters.parameter.name | Where-Object { $_ -notin $real }) | Should -BeNullOrEmpty
    }

    It 'shows the parameter facts of the code' {
        foreach ($name in @($Command.Parameters.Keys | Where-Object { $_ -notin $CommonNames })) {
            $entry = $Help.parameters.parameter | Where-Object { $_.name -eq $name }
            $metadata = $Command.Parameters[$name]
            $mandatory = [bool]($metadata.ParameterSets.Values | Where-Object IsMandatory)
            $entry.required | Should -Be $mandatory.ToString().ToLowerInvariant() -Because "-$name's Required? comes from the code"
            $byValue = [bool]($metadata.ParameterSets.Values | Where-Object ValueFromPipeline)
            $byName = [bool]($metadata.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName)
            ($entry.pipelineInput -like '*ByValue*') | Should -Be $byValue -Because "-$name's pipeline input comes from the code"
            ($entry.pipelineInput -like '*ByPropertyName*') | Should -Be $byName -Because "-$name's pipeline input comes from the code"
        }
    }

    It 'has one syntax item per parameter set' {
        @($Help.syntax.syntaxItem).Count | Should -Be @($Command.ParameterSets).Count
    }

    It 'has at least two examples, each with code and remarks' {
        $examples = @($Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty
            Get-ParaText $example.remarks | Should -Not -BeNullOrEmpty
        }
    }

    It 'has examples whose code parses' {
        foreach ($example in @($Help.examples.example)) {
            $errors = $null
            $null = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$null, [ref]$errors)
            $errors | Should -BeNullOrEmpty -Because "example '$($example.title)' must be valid PowerShell"
        }
    }

    It 'shows its examples with Get-Help -Examples' {
        $short = Get-Help $Name -Examples
        @($short.examples.example).Count | Should -Be @($Help.examples.example).Count
        $text = $short | Out-String -Width 400
        foreach ($example in @($Help.examples.example)) {
            $firstLine = "$($example.code)".Trim().Split("`n")[0].Trim()
            $text | Should -BeLike "*$firstLine*"
        }
    }

    It 'documents its inputs and its output types' {
        @($Help.inputTypes.inputType).Count | Should -BeGreaterOrEqual 1
        $documented = @($Help.returnValues.returnValue | ForEach-Object { $_.type.name })
        foreach ($type in @($Command.OutputType.Name | Where-Object { $_ -ne 'System.Void' })) {
            $documented | Should -Contain $type
        }
    }

    It 'has notes and links to about_Checkpoint and the other cmdlets' {
        Get-ParaText $Help.alertSet.alert | Should -Not -BeNullOrEmpty
        $links = @($Help.relatedLinks.navigationLink.linkText)
        $links | Should -Contain 'about_Checkpoint'
        foreach ($other in $Expected | Where-Object { $_ -ne $Name }) {
            $links | Should -Contain $other
        }
    }
}

Describe 'Get-Help about_Checkpoint' {
    BeforeAll {
        $script:About = Get-Help about_Checkpoint | Out-String
    }

    It 'returns the topic' {
        $About | Should -Match 'TOPIC\s+about_Checkpoint'
        $About | Should -Match 'SHORT DESCRIPTION'
        $About | Should -Match 'LONG DESCRIPTION'
        $About | Should -Match 'SEE ALSO'
    }

    It 'explains <Subject>' -ForEach @(
        @{ Subject = '$CheckpointContext'; Pattern = 'CheckpointContext' }
        @{ Subject = 'its properties'; Pattern = '(?s)RunId.*SampleId.*Attempt.*Model.*Config.*Seed.*SampleSeed.*Random.*Shard' }
        @{ Subject = 'the results file and its checksum'; Pattern = '(?s)\{RunId\}\.jsonl.*CRC-32C' }
        @{ Subject = 'the state file'; Pattern = '\{RunId\}_resume_state\.json' }
        @{ Subject = 'the errors log'; Pattern = '\{RunId\}_errors\.log' }
        @{ Subject = 'the lock files'; Pattern = '(?s)\{RunId\}\.lock\b.*\{RunId\}\.lock\.json' }
        @{ Subject = 'damaged sidecars'; Pattern = '\.damaged-' }
        @{ Subject = 'shard files'; Pattern = '\{RunId\}_shard-k-of-n' }
        @{ Subject = 'run ids'; Pattern = 'yyyyMMdd_dataset_model_hash8' }
        @{ Subject = 'secrets, by whole words'; Pattern = '(?s)SECRETS.*max_tokens' }
        @{ Subject = 'that a state file must be trusted like a script'; Pattern = '(?s)TRUST.*script' }
        @{ Subject = 'kill -9 and power loss'; Pattern = '(?s)kill -9.*power loss' }
        @{ Subject = 'at-least-once samples in flight'; Pattern = 'at least once' }
    ) {
        $About | Should -Match $Pattern
    }
}
