# Runs every ```powershell block of README.md, in order, in one child pwsh, in a folder laid out as the README
# describes (data/gsm8k.csv, data/arithmetic.csv, ./output/Checkpoint), then checks what the examples left.
BeforeAll {
    $script:RepoRoot = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $script:Work = Join-Path $TestDrive 'readme'
    New-Item -ItemType Directory -Path (Join-Path $Work 'data'), (Join-Path $Work 'output') | Out-Null
    New-Item -ItemType SymbolicLink -Path (Join-Path $Work 'output/Checkpoint') -Target $env:CHECKPOINT_TEST_MODULE | Out-Null
    Copy-Item (Join-Path $RepoRoot 'examples/demo/arithmetic.csv') (Join-Path $Work 'data/arithmetic.csv')
    $rows = 1..12 | ForEach-Object { [pscustomobject]@{ id = "q$_"; question = "What is $_ + $_?"; answer = "$_ + $_ = $($_ * 2)`n#### $($_ * 2)" } }
    $rows | Export-Csv (Join-Path $Work 'data/gsm8k.csv') -NoTypeInformation -UseQuotes AsNeeded

    $readme = Get-Content (Join-Path $RepoRoot 'README.md') -Raw
    $script:Blocks = [regex]::Matches($readme, '(?ms)^```powershell\r?\n(.*?)^```') | ForEach-Object { $_.Groups[1].Value }
    $script:Script = Join-Path $TestDrive 'readme-examples.ps1'
    $lines = @('$ErrorActionPreference = ''Stop''', '$ProgressPreference = ''SilentlyContinue''')
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        $lines += $Blocks[$i]
        $lines += "Write-Output 'README block $($i + 1) done'"
    }
    Set-Content -Path $Script -Value $lines
    Push-Location $Work
    try {
        $script:Output = & (Join-Path $PSHOME 'pwsh') -NoProfile -NonInteractive -File $Script 2>&1 | Out-String
        $script:ExitCode = $LASTEXITCODE
    }
    finally {
        Pop-Location
    }
}

Describe 'README examples' {
    It 'has PowerShell examples to run' {
        $Blocks.Count | Should -BeGreaterOrEqual 6
    }

    It 'runs every example without an error' {
        $ExitCode | Should -Be 0 -Because $Output
        for ($i = 1; $i -le $Blocks.Count; $i++) {
            $Output | Should -Match "README block $i done"
        }
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
