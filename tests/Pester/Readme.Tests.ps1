# Runs every ```powershell block of README.md, in order, in one child pwsh, in a folder laid out as the README
# describes (data/gsm8k.csv, data/arithmetic.csv, and output/ holding the package of the module under test),
# then checks what the examples left. The child's home and module path are its own, so the README's install
# block installs there and every 'Import-Module Checkpoint' finds that copy, never the user's own modules.
# Skipped on Windows, where the user's module folder cannot be moved away from the user's own.
BeforeDiscovery {
    $script:NotIsolatable = [bool]$IsWindows
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:RepoRoot = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $script:Work = Join-Path $TestDrive 'readme'
    New-Item -ItemType Directory -Path (Join-Path $Work 'data'), (Join-Path $Work 'output') | Out-Null
    Copy-Item (Join-Path $RepoRoot 'examples/demo/arithmetic.csv') (Join-Path $Work 'data/arithmetic.csv')
    $rows = 1..12 | ForEach-Object { [pscustomobject]@{ id = "q$_"; question = "What is $_ + $_?"; answer = "$_ + $_ = $($_ * 2)`n#### $($_ * 2)" } }
    $rows | Export-Csv (Join-Path $Work 'data/gsm8k.csv') -NoTypeInformation -UseQuotes AsNeeded
    $script:Isolated = New-IsolatedHome (Join-Path $TestDrive 'home')

    $readme = Get-Content (Join-Path $RepoRoot 'README.md') -Raw
    $script:Blocks = [regex]::Matches($readme, '(?ms)^```powershell\r?\n(.*?)^```') | ForEach-Object { $_.Groups[1].Value }
    $script:Script = Join-Path $TestDrive 'readme-examples.ps1'
    $module = (Resolve-Path $env:CHECKPOINT_TEST_MODULE).ProviderPath.Replace("'", "''")
    # Before the blocks: the module under test published to output/, as build.ps1 -Task Package does, through
    # a repository registered for that alone. After them: where the examples' Checkpoint came from.
    $lines = @(
        '$ErrorActionPreference = ''Stop''', '$ProgressPreference = ''SilentlyContinue'''
        'Register-PSResourceRepository -Name ReadmeTestOutput -Uri ./output -Trusted'
        "Publish-PSResource -Path '$module' -Repository ReadmeTestOutput"
        'Unregister-PSResourceRepository -Name ReadmeTestOutput'
    )
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        $lines += $Blocks[$i]
        $lines += "Write-Output 'README block $($i + 1) done'"
    }
    $lines += 'Write-Output "Checkpoint from: $((Get-Module Checkpoint).ModuleBase)"'
    Set-Content -Path $Script -Value $lines
    if (-not $IsWindows) {
        $run = Invoke-IsolatedPwsh $Isolated -ScriptPath $Script -WorkingDirectory $Work -TimeoutSeconds 600
        $script:Output = $run.Output
        $script:ExitCode = $run.ExitCode
    }
}

Describe 'README examples' -Skip:$NotIsolatable {
    It 'has PowerShell examples to run' {
        $Blocks.Count | Should -BeGreaterOrEqual 6
    }

    It 'runs every example without an error' {
        $ExitCode | Should -Be 0 -Because $Output
        for ($i = 1; $i -le $Blocks.Count; $i++) {
            $Output | Should -Match "README block $i done"
        }
    }

    It 'installs the package as the README says and imports Checkpoint by name from that install' {
        $ExitCode | Should -Be 0 -Because $Output
        $Output | Should -Match "(?m)^Checkpoint from: $([regex]::Escape((Join-Path $Isolated.Modules 'Checkpoint')))[/\\]"
    }

    It 'leaves the runs, exports and shard files the examples describe' {
        $outputs = Join-Path $Work 'outputs'
        $names = (Get-ChildItem $outputs -File).Name
        $names | Where-Object { $_ -match '_gsm8k_gpt-4o_[0-9a-f]{8}\.jsonl$' } | Should -HaveCount 1
        $names | Where-Object { $_ -match '_gsm8k_llama_[0-9a-f]{8}_shard-[1-4]-of-4\.jsonl$' } | Should -HaveCount 4
        # The completed claude-sonnet runs were removed; the gpt-4o runs stay.
        $names | Where-Object { $_ -match 'claude-sonnet' } | Should -BeNullOrEmpty
        $names | Where-Object { $_ -match '_arithmetic_gpt-4o_' } | Should -Not -BeNullOrEmpty

        $answers = Import-Csv (Join-Path $Work 'answers.csv')
        $answers | Should -HaveCount 12
        ($answers | Where-Object SampleId -EQ 'q7').answer | Should -Be '14'
        # 12 samples x (120 input x 0.15 + 30 output x 0.60) per million tokens, at the shipped gpt-4o-mini price.
        Import-Module $env:CHECKPOINT_TEST_MODULE
        $mini = Get-CheckpointStats -RunId *_gpt-4o-mini_* -OutputDirectory $outputs
        $mini.InputTokens | Should -Be 1440
        $mini.OutputTokens | Should -Be 360
        $mini.TotalCost | Should -Be 0.000432
        $stats = Import-Csv (Join-Path $Work 'stats.csv')
        $stats.RunId | Should -Contain ($names | Where-Object { $_ -match '_gsm8k_gpt-4o_[0-9a-f]{8}\.jsonl$' }).Replace('.jsonl', '')
    }
}
