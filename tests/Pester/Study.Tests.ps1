# End-to-end test of the LLM-study examples (examples/gsm8k-self-correction.ps1, Summarize-SelfCorrection.ps1,
# Start-Study.ps1) against a local OpenAI-compatible server (Study/Start-FakeOpenAI.ps1) whose answers are
# scripted per problem: right or wrong first, right or wrong after review, a 429 with Retry-After or a 500 on
# the first initial or review call of some problems, and usage on every answer. Each request is logged by the
# server, so calls, tokens and costs are checked against what the server really did.
#
# The problems are the first 80 of ../shared/data/gsm8k-test.jsonl (beside the repository). A user's clone has
# no ../shared: the tests are then skipped, with the reason in their names.

BeforeDiscovery {
    $gsm8k = Join-Path $PSScriptRoot '../../../shared/data/gsm8k-test.jsonl'
    $script:HasGsm8k = Test-Path -LiteralPath $gsm8k -PathType Leaf
    $script:SkipReason = if ($HasGsm8k) { '' } else { ' (skipped: ../shared/data/gsm8k-test.jsonl is absent, as in a clone without ../shared)' }
}

Describe "GSM8K self-correction study against a scripted OpenAI-compatible server$SkipReason" -Skip:(-not $HasGsm8k) {
    BeforeAll {
        $ProgressPreference = 'SilentlyContinue'
        Import-Module $env:CHECKPOINT_TEST_MODULE
        $script:Utf8 = [System.Text.UTF8Encoding]::new($false)
        $repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
        $script:StudyScript = Join-Path $repo 'examples/gsm8k-self-correction.ps1'
        $script:SummarizeScript = Join-Path $repo 'examples/Summarize-SelfCorrection.ps1'
        $script:StartStudyScript = Join-Path $repo 'examples/Start-Study.ps1'
        $script:Pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $script:Key = 'sk-study-' + [guid]::NewGuid().ToString('n')
        $script:Work = Join-Path $TestDrive 'study'
        New-Item -ItemType Directory -Path (Join-Path $Work 'data') | Out-Null

        # Prices per million tokens: the main model, and a cheaper one for Start-Study's second model.
        $script:Price = @{ 'fake-gpt' = @{ In = [decimal]'2.5'; Out = [decimal]'10' }; 'fake-mini' = @{ In = [decimal]'0.15'; Out = [decimal]'0.6' } }
        $script:PricingFile = Join-Path $Work 'pricing.json'
        $pricing = @{ models = @{} }
        foreach ($name in $Price.Keys) { $pricing.models[$name] = @{ InputPerMillion = $Price[$name].In; OutputPerMillion = $Price[$name].Out } }
        [System.IO.File]::WriteAllText($PricingFile, ($pricing | ConvertTo-Json -Depth 4), $Utf8)

        # The first 80 problems, as their own file: -Limit 80 on them is the whole dataset, so a second run has
        # nothing left to call. (On the full file, a second -Limit 80 would rightly take problems 81 to 160.)
        $script:N = 80
        $source = Join-Path $PSScriptRoot '../../../shared/data/gsm8k-test.jsonl'
        $script:Lines = @(Get-Content -LiteralPath $source -TotalCount $N -Encoding utf8)
        $script:Dataset = Join-Path $Work 'data/gsm8k-test.jsonl'
        [System.IO.File]::WriteAllText($Dataset, (($Lines -join "`n") + "`n"), $Utf8)

        # The server's script: by problem index i, the class (i % 10: 0-3 right then right, 4-6 wrong then
        # right, 7 right then wrong, 8-9 wrong then wrong), a 429 (odd i) or a 500 (even i) on the first initial call (i % 9 = 3) or on
        # the first review call (i % 9 = 6), and the answer's format (i % 3: '#### n', '#### $1,234', or no
        # '####' at all, so the last number counts).
        $script:Entries = for ($i = 0; $i -lt $Lines.Count; $i++) {
            $row = $Lines[$i] | ConvertFrom-Json
            $gold = [decimal](($row.answer -split '####')[-1].Trim() -replace ',', '')
            $initial, $revised = switch ($i % 10) { { $_ -le 3 } { 'right', 'right' } { $_ -in 4..6 } { 'wrong', 'right' } 7 { 'right', 'wrong' } default { 'wrong', 'wrong' } }
            [pscustomobject][ordered]@{
                index    = $i
                question = $row.question
                gold     = $gold
                initial  = $initial
                revised  = $revised
                throttle = @{ 3 = 'initial'; 6 = 'review' }[$i % 9] ?? 'none'
                status   = $i % 2 ? 429 : 500
                format   = ('plain', 'dollar', 'nohash')[$i % 3]
            }
        }
        $scriptPath = Join-Path $Work 'server-script.json'
        [System.IO.File]::WriteAllText($scriptPath, (ConvertTo-Json @($Entries) -Depth 4), $Utf8)

        # What the server was scripted to do, per problem.
        $script:Expected = @{}
        foreach ($e in $Entries) {
            $Expected[$e.question] = [pscustomobject]@{
                Index    = $e.index
                Class    = '{0}->{1}' -f ($e.initial -eq 'right' ? 'correct' : 'incorrect'), ($e.revised -eq 'right' ? 'correct' : 'incorrect')
                Initial  = $e.initial -eq 'right' ? $e.gold : $e.gold + 7
                Revised  = $e.revised -eq 'right' ? $e.gold : $e.gold + 3
                Gold     = $e.gold
                # A review call that failed does not pay again for the first answer: it comes from the cache.
                Calls    = @{ none = 2; initial = 3; review = 3 }[$e.throttle]
                Attempts = $e.throttle -eq 'none' ? 1 : 2
            }
        }

        # The server: a child pwsh on a free port of 127.0.0.1, stopping by itself after 150 s.
        $script:ServerLog = Join-Path $Work 'server-log.jsonl'
        $portFile = Join-Path $Work 'server.port'
        $start = [System.Diagnostics.ProcessStartInfo]::new($Pwsh)
        foreach ($argument in '-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Study/Start-FakeOpenAI.ps1'),
            '-ScriptPath', $scriptPath, '-PortFile', $portFile, '-LogPath', $ServerLog, '-ApiKey', $Key, '-MaxSeconds', '150') {
            $start.ArgumentList.Add($argument)
        }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $script:Server = [System.Diagnostics.Process]::Start($start)
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Test-Path -LiteralPath $portFile) -and -not $Server.HasExited -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not (Test-Path -LiteralPath $portFile)) {
            throw "The fake server did not start: $(if ($Server.HasExited) { $Server.StandardError.ReadToEnd() })"
        }
        $script:Endpoint = 'http://127.0.0.1:{0}/v1' -f (Get-Content -LiteralPath $portFile -Raw).Trim()

        function Read-ServerLog {
            if (-not (Test-Path -LiteralPath $ServerLog)) { return @() }
            return @(Get-Content -LiteralPath $ServerLog | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json })
        }

        function Invoke-Study([string] $OutputDirectory, [hashtable] $Extra = @{}) {
            $arguments = @{
                Dataset         = $Dataset
                Model           = 'fake-gpt'
                Endpoint        = $Endpoint
                ApiKey          = $Key
                Limit           = $N
                ThrottleLimit   = 4
                OutputDirectory = $OutputDirectory
                PricingFile     = $PricingFile
                Module          = $env:CHECKPOINT_TEST_MODULE
            }
            foreach ($name in $Extra.Keys) { $arguments[$name] = $Extra[$name] }
            return & $StudyScript @arguments 3>$null
        }

        # 1. The study, then 2. the same command again (a resume).
        $script:Out = Join-Path $Work 'outputs'
        $script:First = Invoke-Study $Out
        $script:LogAfterFirst = Read-ServerLog
        $script:Results = @(Get-CheckpointResult -RunId $First.RunId -OutputDirectory $Out)
        $script:StatsAfterFirst = Get-CheckpointStats -RunId $First.RunId -OutputDirectory $Out
        $script:Second = Invoke-Study $Out
        $script:LogAfterSecond = Read-ServerLog
        $script:StatsAfterSecond = Get-CheckpointStats -RunId $First.RunId -OutputDirectory $Out

        # 3. The summary of the run.
        $script:CsvPath = Join-Path $Work 'table.csv'
        $summaryOutput = & $SummarizeScript -RunId $First.RunId -OutputDirectory $Out -CsvPath $CsvPath -Module $env:CHECKPOINT_TEST_MODULE 6>&1
        $script:SummaryText = ($summaryOutput | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | ForEach-Object { "$_" }) -join "`n"
        $script:SummaryTable = @($summaryOutput | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] })

        # 4. Another review prompt: a new run (the prompt is part of -Config) on the same cache.
        $script:OtherReview = Invoke-Study $Out @{ ReviewPrompt = "Look at your answer again and check it. End with the final answer on the last line as '#### <number>'." }
        $script:LogAfterOther = Read-ServerLog
        $script:StatsOther = Get-CheckpointStats -RunId $OtherReview.RunId -OutputDirectory $Out
    }

    AfterAll {
        if ($script:Server) {
            Import-Module (Join-Path $PSScriptRoot 'Resilience/ResilienceHelpers.psm1') -Force
            Stop-ChildProcess $Server
        }
    }

    It 'runs the 80 problems to completion' {
        $First.Status | Should -Be 'Completed'
        $First.TotalSamples | Should -Be $N
        $First.CompletedSamples | Should -Be $N
        $First.FailedSamples | Should -Be 0
        $First.ProcessedThisRun | Should -Be $N
        $First.Model | Should -Be 'fake-gpt'
        $Results | Should -HaveCount $N
    }

    It 'classifies every problem as the server was scripted to answer it' {
        foreach ($result in $Results) {
            $want = $Expected[[string]$result.Output.question]
            $want | Should -Not -BeNullOrEmpty -Because "the result of sample $($result.SampleId) names its question"
            $because = "problem $($want.Index)"
            $result.Output.class | Should -Be $want.Class -Because $because
            [decimal]$result.Output.initial_answer | Should -Be $want.Initial -Because $because
            [decimal]$result.Output.revised_answer | Should -Be $want.Revised -Because $because
            [decimal]$result.Output.gold | Should -Be $want.Gold -Because $because
            $result.Output.initial_correct | Should -Be ($want.Class -like 'correct->*') -Because $because
            $result.Output.revised_correct | Should -Be ($want.Class -like '*->correct') -Because $because
        }
        $counts = $Results | Group-Object { $_.Output.class } -AsHashTable -AsString
        $scripted = $Expected.Values | Group-Object Class -AsHashTable -AsString
        foreach ($class in 'correct->correct', 'correct->incorrect', 'incorrect->correct', 'incorrect->incorrect') {
            @($counts[$class]).Count | Should -Be @($scripted[$class]).Count -Because $class
        }
        @($scripted['correct->correct']).Count | Should -Be 32
        @($scripted['incorrect->correct']).Count | Should -Be 24
        @($scripted['correct->incorrect']).Count | Should -Be 8
        @($scripted['incorrect->incorrect']).Count | Should -Be 16
    }

    It 'retries the 429 and 500 answers, taking a first answer already paid for from the cache' {
        $LogAfterFirst | Where-Object index -LT 0 | Should -BeNullOrEmpty -Because 'every request was for a scripted problem'
        @($LogAfterFirst | Where-Object status -EQ 429).Count | Should -Be @($Entries | Where-Object { $_.throttle -ne 'none' -and $_.status -eq 429 }).Count
        @($LogAfterFirst | Where-Object status -EQ 500).Count | Should -Be @($Entries | Where-Object { $_.throttle -ne 'none' -and $_.status -eq 500 }).Count
        @($LogAfterFirst | Where-Object { $_.status -notin 200, 429, 500 }).Count | Should -Be 0
        # Exactly one successful call of each kind per problem: none paid twice.
        @($LogAfterFirst | Where-Object { $_.status -eq 200 -and $_.kind -eq 'initial' }).Count | Should -Be $N
        @($LogAfterFirst | Where-Object { $_.status -eq 200 -and $_.kind -eq 'review' }).Count | Should -Be $N
        $calls = $LogAfterFirst | Group-Object index -AsHashTable -AsString
        foreach ($want in $Expected.Values) {
            @($calls["$($want.Index)"]).Count | Should -Be $want.Calls -Because "problem $($want.Index)"
        }
        foreach ($result in $Results) {
            $result.Attempt | Should -Be $Expected[[string]$result.Output.question].Attempts
        }
        # The failed attempts are in the history: one per 429 or 500.
        $StatsAfterFirst.ErrorCount | Should -Be @($LogAfterFirst | Where-Object status -In 429, 500).Count
        # The second attempt of a problem whose review call failed took its first answer from the cache.
        $reviewFailed = @($Entries | Where-Object throttle -EQ 'review')
        $reviewFailed.Count | Should -BeGreaterThan 0
        $StatsAfterFirst.CacheHits | Should -Be $reviewFailed.Count
    }

    It 'counts the tokens of every answered call, and costs them at the file''s prices' {
        $answered = @($LogAfterFirst | Where-Object status -EQ 200)
        $inTokens = [long]($answered | Measure-Object prompt_tokens -Sum).Sum
        $outTokens = [long]($answered | Measure-Object completion_tokens -Sum).Sum
        $inTokens | Should -BeGreaterThan 0
        $First.InputTokens | Should -Be $inTokens
        $First.OutputTokens | Should -Be $outTokens
        $cost = ([decimal]$inTokens * $Price['fake-gpt'].In + [decimal]$outTokens * $Price['fake-gpt'].Out) / [decimal]1000000
        $First.TotalCost | Should -Be $cost
        $StatsAfterFirst.InputTokens | Should -Be $inTokens
        $StatsAfterFirst.OutputTokens | Should -Be $outTokens
        $StatsAfterFirst.TotalCost | Should -Be $cost
        # Each result's usage covers its own successful attempt's two calls.
        $sumOfResults = ($Results | ForEach-Object { [long]$_.Output.usage.prompt_tokens } | Measure-Object -Sum).Sum
        $wasted = ($LogAfterFirst | Where-Object { $_.status -eq 200 -and $_.kind -eq 'initial' -and $Entries[$_.index].throttle -eq 'review' } |
            Group-Object index | ForEach-Object { [long]$_.Group[0].prompt_tokens } | Measure-Object -Sum).Sum
        $sumOfResults + $wasted | Should -Be $inTokens -Because 'the first call of an attempt whose review call failed was paid for once, in that attempt'
    }

    It 'prints the accuracy before and after self-correction, the table and the cost' {
        $before = @($Expected.Values | Where-Object Class -Like 'correct->*').Count
        $after = @($Expected.Values | Where-Object Class -Like '*->correct').Count
        $percent = { param($count) (100 * $count / $N).ToString('0.0', [cultureinfo]::InvariantCulture) + '%' }
        $SummaryText | Should -Match ([regex]::Escape("Accuracy before self-correction: $(& $percent $before) ($before/$N)"))
        $SummaryText | Should -Match ([regex]::Escape("Accuracy after self-correction:  $(& $percent $after) ($after/$N)"))
        $SummaryText | Should -Match ([regex]::Escape($First.TotalCost.ToString('0.######', [cultureinfo]::InvariantCulture) + ' total'))
        $SummaryText | Should -Match ([regex]::Escape("$($First.InputTokens) input + $($First.OutputTokens) output tokens"))
        $SummaryText | Should -Match 'incorrect->correct\s+24\s+30\.0%'
        $SummaryText | Should -Match ([regex]::Escape("Calls from the response cache: $($StatsAfterFirst.CacheHits), worth $($StatsAfterFirst.CachedCost.ToString('0.######', [cultureinfo]::InvariantCulture))"))

        $SummaryTable | Should -HaveCount 4
        foreach ($row in $SummaryTable) {
            $count = @($Expected.Values | Where-Object Class -EQ $row.Class).Count
            $row.Count | Should -Be $count -Because $row.Class
            $row.Share | Should -Be ([math]::Round($count / $N, 4)) -Because $row.Class
            $row.RunId | Should -Be $First.RunId
            $row.Model | Should -Be 'fake-gpt'
        }
        $csv = @(Import-Csv -LiteralPath $CsvPath)
        $csv | Should -HaveCount 4
        ($csv | ForEach-Object { "$($_.Class)=$($_.Count)" }) -join ',' | Should -Be (($SummaryTable | ForEach-Object { "$($_.Class)=$($_.Count)" }) -join ',')
    }

    It 'calls the server 0 more times and pays nothing twice when run again' {
        $Second.RunId | Should -Be $First.RunId
        $Second.Status | Should -Be 'Completed'
        $Second.ProcessedThisRun | Should -Be 0
        $Second.SkippedThisRun | Should -Be $N
        $LogAfterSecond | Should -HaveCount $LogAfterFirst.Count
        $Second.TotalCost | Should -Be $First.TotalCost
        $Second.InputTokens | Should -Be $First.InputTokens
        $StatsAfterSecond.TotalCost | Should -Be $StatsAfterFirst.TotalCost
    }

    It 'pays for the review calls only when a run has another -ReviewPrompt' {
        $OtherReview.RunId | Should -Not -Be $First.RunId
        $OtherReview.Status | Should -Be 'Completed'
        $OtherReview.CompletedSamples | Should -Be $N
        $new = @($LogAfterOther | Select-Object -Skip $LogAfterSecond.Count)
        @($new | Where-Object kind -EQ 'initial').Count | Should -Be 0 -Because 'every first answer comes from the cache'
        @($new | Where-Object kind -EQ 'review').Count | Should -Be $N
        @($new | Where-Object status -NE 200).Count | Should -Be 0
        $OtherReview.CacheHits | Should -Be $N
        $StatsOther.CacheHits | Should -Be $N
        # What the cached first answers would have cost: the first run's paid initial calls, at the file's prices.
        $initial = @($LogAfterFirst | Where-Object { $_.status -eq 200 -and $_.kind -eq 'initial' })
        $inTokens = [long]($initial | Measure-Object prompt_tokens -Sum).Sum
        $outTokens = [long]($initial | Measure-Object completion_tokens -Sum).Sum
        $StatsOther.CachedCost | Should -Be (([decimal]$inTokens * $Price['fake-gpt'].In + [decimal]$outTokens * $Price['fake-gpt'].Out) / [decimal]1000000)
        $OtherReview.CachedCost | Should -Be $StatsOther.CachedCost
        # Only the review calls were paid.
        $OtherReview.InputTokens | Should -Be ([long]($new | Measure-Object prompt_tokens -Sum).Sum)
        $results = @(Get-CheckpointResult -RunId $OtherReview.RunId -OutputDirectory $Out)
        foreach ($result in $results) {
            $result.Output.class | Should -Be $Expected[[string]$result.Output.question].Class
            $result.Output.cached_calls | Should -Be 1
        }
    }

    It 'keeps the API key off the disk and the prompts in the run''s config' {
        $files = @(Get-ChildItem -LiteralPath $Out -File -Recurse)
        $files.Count | Should -BeGreaterThan 0
        $files | Select-String -SimpleMatch $Key | Should -BeNullOrEmpty
        $state = Get-Content -LiteralPath (Get-ChildItem -LiteralPath $Out -Filter "$($First.RunId)*_resume_state.json").FullName -Raw | ConvertFrom-Json
        $state.config.prompt_version | Should -Be 'v1'
        $state.config.temperature | Should -Be 0
        $state.config.solve_prompt | Should -Match '#### <number>'
    }

    It 'stops a fresh run with BudgetReached once -MaxCost is spent' {
        $before = (Read-ServerLog).Count
        $summary = Invoke-Study (Join-Path $Work 'budget') @{ MaxCost = [decimal]'0.000001'; ThrottleLimit = 1 }
        $summary.Status | Should -Be 'BudgetReached'
        $summary.CompletedSamples | Should -Be 1
        $summary.ProcessedThisRun | Should -Be 1
        $summary.PendingSamples | Should -Be ($N - 1)
        $summary.TotalCost | Should -BeGreaterOrEqual ([decimal]'0.000001')
        (Read-ServerLog).Count - $before | Should -Be 2 -Because 'one problem, two calls, then the budget stops the run'
    }

    It 'fails a problem at once on a 401 (wrong key), without retrying' {
        $before = (Read-ServerLog).Count
        $out = Join-Path $Work 'badkey'
        $summary = Invoke-Study $out @{ ApiKey = 'sk-wrong'; Limit = 2; ThrottleLimit = 1 }
        $summary.FailedSamples | Should -Be 2
        $summary.CompletedSamples | Should -Be 0
        $calls = @(Read-ServerLog | Select-Object -Skip $before)
        $calls | Should -HaveCount 2
        $calls.status | Should -Be 401, 401
        $failed = @(Get-CheckpointResult -RunId $summary.RunId -OutputDirectory $out -Status Failed)
        $failed | Should -HaveCount 2
        $failed.Attempt | Should -Be 1, 1
        $failed[0].Error | Should -Match '401'
        Get-ChildItem -LiteralPath $out -File | Select-String -SimpleMatch 'sk-wrong' | Should -BeNullOrEmpty
    }

    It 'runs Start-Study.ps1 over two models on a CSV: estimate first, then the runs, then one table' {
        # The first 8 problems as CSV (question, answer), and the endpoint and key from the environment.
        $csv = Join-Path $Work 'data/gsm8k-first8.csv'
        $Lines[0..7] | ForEach-Object { $_ | ConvertFrom-Json } | Select-Object question, answer | Export-Csv -LiteralPath $csv -NoTypeInformation
        $out = Join-Path $Work 'study-outputs'
        $before = (Read-ServerLog).Count
        $command = "`$ProgressPreference = 'SilentlyContinue'; `$env:OPENAI_BASE_URL = '$Endpoint'; `$env:OPENAI_API_KEY = '$Key'; " +
            "& '$StartStudyScript' -Model fake-gpt, fake-mini -Dataset '$csv' -OutputDirectory '$out' -PricingFile '$PricingFile' " +
            "-EstimatedCostPerSample 0.0025 -ThrottleLimit 2 -Module '$($env:CHECKPOINT_TEST_MODULE)'"
        $text = & $Pwsh -NoProfile -NonInteractive -Command $command 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $text

        # The estimate: one -WhatIf line per run, from -EstimatedCostPerSample (8 x 0.0025), before any call.
        $whatIf = @([regex]::Matches($text, 'What if: Run (\S+): 8 samples, 0 done, 8 pending, 0 failed; would process 8; cost so far 0, estimated cost of this run 0\.02 \(from -EstimatedCostPerSample\)'))
        $whatIf | Should -HaveCount 2 -Because $text
        $text.IndexOf('What if:') | Should -BeLessThan $text.IndexOf('== Running')

        $stats = @(Get-CheckpointStats -OutputDirectory $out)
        $stats | Should -HaveCount 2
        foreach ($run in $stats) {
            $run.Status | Should -Be 'Completed'
            $run.CompletedSamples | Should -Be 8
            $cost = ([decimal]$run.InputTokens * $Price[$run.Model].In + [decimal]$run.OutputTokens * $Price[$run.Model].Out) / [decimal]1000000
            $run.TotalCost | Should -Be $cost -Because "$($run.Model) has its own price"
            $text | Should -Match ("(?m)^{0}\s+gsm8k-first8\.csv\s+Completed\s+8\s+8\s+0\s+{1}\s+{2}\s+{3}" -f
                [regex]::Escape($run.Model), $run.InputTokens, $run.OutputTokens, [regex]::Escape($run.TotalCost.ToString('0.######', [cultureinfo]::InvariantCulture)))
        }
        # 2 models x 8 problems x 2 calls (the first 8 problems had their 429s in the main run).
        (Read-ServerLog).Count - $before | Should -Be 32
        Get-ChildItem -LiteralPath $out -File | Select-String -SimpleMatch $Key | Should -BeNullOrEmpty
    }
}
