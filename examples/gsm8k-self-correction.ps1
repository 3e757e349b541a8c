<#
.SYNOPSIS
    Does a model fix its own mistakes? A GSM8K self-correction study against any OpenAI-compatible
    chat completions endpoint, run through Start-CheckpointRun so that it resumes, retries and shards.

.DESCRIPTION
    For each problem of the dataset, two calls to {Endpoint}/chat/completions:

      1. the question, asking for a step-by-step solution that ends in '#### <number>';
      2. the same conversation plus a request to review the answer and correct it if needed, again ending
         in '#### <number>'.

    Both final numbers are extracted (the number after the last '####', else the last number in the text;
    commas and '$' are ignored), compared numerically with the gold answer (the number after '####' in the
    dataset's answer field), and the problem is classified as 'correct->correct', 'correct->incorrect',
    'incorrect->correct' or 'incorrect->incorrect'.

    Each problem's result holds both answers and both responses, and its token usage summed over both calls
    (usage.prompt_tokens, usage.completion_tokens), so the module counts tokens and cost. Tokens are also
    reported per call with $CheckpointContext.AddUsage: when the review call fails (say with a 429) after the
    first call succeeded, the first call was paid for, and the attempt's record says so.

    Errors are left to the module: 408, 429 and 5xx are retried with exponential backoff (Retry-After is
    honoured), other 4xx (a wrong key, a wrong model name) fail the problem at once. Run the script again
    and only the problems that are not done are sent.

    -RateLimit and -TokenRateLimit keep the run under the API key's limits: the block takes one request
    ($CheckpointContext.WaitForRate) before each of its two calls, inside the cached block, so a call answered
    from the cache takes none.

    Both calls go through the response cache ($CheckpointContext.Cached), keyed on the endpoint, the model,
    the messages, the temperature, the seed and the token limit, so no call is paid twice: a problem whose
    review call failed takes its first answer from the cache when it is tried again, and a run with another
    -ReviewPrompt (a new run, since the prompt is part of -Config) pays only for the review calls. The cache
    is <OutputDirectory>/cache unless -CacheDirectory says otherwise; -NoCache turns it off. A cached call's
    tokens are counted as cached, not paid (CacheHits and CachedCost in the run's summary and stats).

    The token limit is sent as max_completion_tokens to OpenAI's own endpoint (api.openai.com), whose API
    marks max_tokens deprecated and whose o-series models refuse it, and as max_tokens to any other
    OpenAI-compatible server (Ollama, vLLM, llama.cpp), which know that field.

    The API key is never written to disk: it is not part of -Config (which is stored in the run's state
    file and hashed into the run id); the block reads it through $using:ApiKey, or from OPENAI_API_KEY when
    the stored block is run by Resume-CheckpointRun. -Config holds what changes the results: the prompts,
    their version, the temperature and max_tokens. Change a prompt and the study starts a new run.

    Then summarise with Summarize-SelfCorrection.ps1 (accuracy before and after, the four-way table, cost).

.EXAMPLE
    $env:OPENAI_API_KEY = '...'
    ./gsm8k-self-correction.ps1 -Dataset gsm8k-test.jsonl -Model gpt-4o-mini -Endpoint https://api.openai.com/v1 -Limit 100 -MaxCost 1

.EXAMPLE
    # A local model through Ollama's OpenAI-compatible API (no key needed), four problems at a time.
    ./gsm8k-self-correction.ps1 -Dataset gsm8k-test.jsonl -Model llama3.1:8b -Endpoint http://localhost:11434/v1 -ThrottleLimit 4

.EXAMPLE
    # What a run would cost, without calling anything.
    ./gsm8k-self-correction.ps1 -Dataset gsm8k-test.jsonl -Model gpt-4o -EstimatedCostPerSample 0.004 -WhatIf

.EXAMPLE
    # Shard 2 of 8 on a cluster (or -Shard auto under a Slurm array job).
    ./gsm8k-self-correction.ps1 -Dataset gsm8k-test.jsonl -Model gpt-4o-mini -Shard 2/8 -OutputDirectory /shared/outputs
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # GSM8K files (.jsonl or .csv) with 'question' and 'answer' fields; wildcards allowed.
    [Parameter(Mandatory)][string[]] $Dataset,

    # The model names as the endpoint knows them; one run per dataset x model.
    [Parameter(Mandatory)][string[]] $Model,

    # The base URL of an OpenAI-compatible API, such as https://api.openai.com/v1 or http://localhost:11434/v1.
    [string] $Endpoint = $(if ($env:OPENAI_BASE_URL) { $env:OPENAI_BASE_URL } else { 'https://api.openai.com/v1' }),

    # The API key, sent as 'Authorization: Bearer <key>'. Never written to disk.
    [string] $ApiKey = $env:OPENAI_API_KEY,

    # Process at most this many pending problems per run.
    [ValidateRange(1, [int]::MaxValue)][int] $Limit,

    # Problems in flight at once.
    [ValidateRange(1, 1024)][int] $ThrottleLimit = 1,

    # Where the run's files go.
    [string] $OutputDirectory = 'outputs',

    # Stop a run cleanly once its cost reaches this many dollars (status BudgetReached).
    [ValidateRange(0.0, [double]::MaxValue)][decimal] $MaxCost,

    # The shard to process: k/n, or auto (Slurm, AWS Batch, Kubernetes).
    [string] $Shard,

    # The Checkpoint module to import: a name or a path.
    [string] $Module = 'Checkpoint',

    # The second turn's request (part of the run's identity: another review prompt is a new run, which
    # takes every first answer from the cache).
    [ValidateNotNullOrEmpty()][string] $ReviewPrompt = "Review your solution above carefully. Check every step; if you find a mistake, correct it, and if it is right, keep it. Reason step by step, then give your final answer as a single number on the last line, in the form '#### <number>'.",

    # Where the response cache lives (by default <OutputDirectory>/cache); runs that share it share calls.
    [string] $CacheDirectory,

    # Make every call, cached or not, and store none.
    [switch] $NoCache,

    # Sampling temperature (part of the run's identity).
    [double] $Temperature = 0,

    # max_tokens per call; 0 leaves it to the server (part of the run's identity).
    [ValidateRange(0, [int]::MaxValue)][int] $MaxTokens = 0,

    # The run seed; each problem's derived seed is sent as the request's 'seed'.
    [int] $Seed = 0,

    # Retries after a failed attempt (429, 5xx, timeouts).
    [ValidateRange(0, 1000)][int] $MaxRetries = 5,

    # The longest one HTTP call may take, in seconds.
    [ValidateRange(1, 86400)][int] $RequestTimeoutSeconds = 300,

    # Prices by model as JSON ({ "models": { "name": { "InputPerMillion": 0.15, "OutputPerMillion": 0.60 } } });
    # by default the pricing.json shipped with the module.
    [string] $PricingFile,

    # Requests per minute that the API key allows (per process: divide it among shards); each of the two
    # calls takes one request, and a call answered from the cache takes none.
    [ValidateRange(1, [int]::MaxValue)][int] $RateLimit,

    # Tokens per minute that the API key allows (per process, as -RateLimit).
    [ValidateRange(1, [int]::MaxValue)][int] $TokenRateLimit,

    # For -WhatIf: the expected cost of one problem, used until some problem has a cost.
    [ValidateRange(0.0, [double]::MaxValue)][decimal] $EstimatedCostPerSample,

    # The dataset column that holds the sample id (by default ids are hashes of the row content).
    [string] $IdColumn
)

$ErrorActionPreference = 'Stop'
Import-Module $Module -ErrorAction Stop

# Part of the run's identity: change a prompt (and bump prompt_version) and the study starts a new run.
$config = @{
    study          = 'gsm8k-self-correction'
    prompt_version = 'v1'
    temperature    = $Temperature
    max_tokens     = $MaxTokens
    solve_prompt   = "Solve the following math problem. Reason step by step, then give the final answer as a single number on the last line, in the form '#### <number>'.`n`nProblem: {question}"
    review_prompt  = $ReviewPrompt
}

if (-not $WhatIfPreference) {
    if (-not $Endpoint) { throw 'Give -Endpoint (an OpenAI-compatible base URL such as http://localhost:11434/v1) or set OPENAI_BASE_URL.' }
    if (-not $ApiKey) {
        Write-Warning "No API key (-ApiKey or OPENAI_API_KEY): requests to $Endpoint go without an Authorization header, which only local servers accept."
    }
}

# A model without a price is run at cost 0, and then -MaxCost can never stop it: say so before paying.
$priceFile = if ($PricingFile) { $PricingFile } else { Join-Path (Get-Command Start-CheckpointRun).Module.ModuleBase 'pricing.json' }
$priced = @()
if (Test-Path -LiteralPath $priceFile) {
    $prices = Get-Content -LiteralPath $priceFile -Raw | ConvertFrom-Json
    $table = if ($prices.PSObject.Properties['models']) { $prices.models } else { $prices }
    $priced = @($table.PSObject.Properties.Name)
}
foreach ($name in $Model) {
    if ($priced -notcontains $name) {
        $problem = "Model '$name' has no price in $priceFile, so its tokens are counted but its cost stays 0."
        if ($PSBoundParameters.ContainsKey('MaxCost') -and -not $WhatIfPreference) {
            throw "$problem -MaxCost could never stop it: give -PricingFile with a price for '$name'."
        }
        Write-Warning "$problem Give -PricingFile to track cost."
    }
}

# One problem: both calls, both answers, the class, and the usage of both calls. Runs in the caller's
# runspace (ThrottleLimit 1) or in worker runspaces (ThrottleLimit above 1), so it defines its own helpers
# and takes the caller's values through $using:.
$process = {
    $endpoint = $using:Endpoint
    if (-not $endpoint) { $endpoint = if ($env:OPENAI_BASE_URL) { $env:OPENAI_BASE_URL } else { 'https://api.openai.com/v1' } }
    $key = $using:ApiKey
    if (-not $key) { $key = $env:OPENAI_API_KEY }
    $timeout = $using:RequestTimeoutSeconds
    if (-not $timeout) { $timeout = 300 }
    $config = $CheckpointContext.Config
    $uri = $endpoint.TrimEnd('/')
    if ($uri -notmatch '/chat/completions$') { $uri += '/chat/completions' }
    $headers = @{}
    if ($key) { $headers['Authorization'] = "Bearer $key" }

    # The final number of a response: the number after the last '####', else the last number in the text.
    function Get-FinalNumber([AllowNull()][string] $Text) {
        if (-not $Text) { return $null }
        $clean = ($Text -replace '(?<=\d),(?=\d{3}\b)', '') -replace '\$', ''
        $pattern = '-?\d+(?:\.\d+)?'
        $index = $clean.LastIndexOf('####')
        $found = if ($index -ge 0) { [regex]::Match($clean.Substring($index + 4), $pattern) } else { $null }
        if (-not $found -or -not $found.Success) {
            $all = [regex]::Matches($clean, $pattern)
            if ($all.Count -eq 0) { return $null }
            $found = $all[$all.Count - 1]
        }
        $value = [decimal]0
        if ([decimal]::TryParse($found.Value, [System.Globalization.NumberStyles]::Float, [System.Globalization.CultureInfo]::InvariantCulture, [ref] $value)) {
            return $value
        }
        return $null
    }

    # OpenAI's own API wants max_completion_tokens (max_tokens is deprecated there, and its o-series models
    # refuse it); other OpenAI-compatible servers (Ollama, vLLM, llama.cpp) know max_tokens.
    $limitField = if (([uri]$uri).Host -eq 'api.openai.com') { 'max_completion_tokens' } else { 'max_tokens' }

    # One chat completion through the response cache; errors (429, 5xx, 4xx) go up to the module, which
    # retries or fails the problem, and a failed call is never stored. The key is everything that decides
    # the answer (the API key, in the headers, is not); the usage is the paid calls' only.
    $usage = [ordered]@{ prompt_tokens = 0; completion_tokens = 0 }
    function Invoke-Chat([object[]] $Messages) {
        $body = [ordered]@{ model = $CheckpointContext.Model; messages = $Messages; temperature = $config.temperature; seed = $CheckpointContext.SampleSeed }
        if ($config.max_tokens -gt 0) { $body[$limitField] = $config.max_tokens }
        $key = [ordered]@{ endpoint = $uri; body = $body }
        $reply = $CheckpointContext.Cached($key, {
                # Inside the cached block, so that a call answered from the cache takes none of -RateLimit.
                $CheckpointContext.WaitForRate()
                $json = $body | ConvertTo-Json -Depth 6 -Compress
                $response = Invoke-RestMethod -Method Post -Uri $uri -Headers $headers -ContentType 'application/json; charset=utf-8' `
                    -Body ([System.Text.Encoding]::UTF8.GetBytes($json)) -TimeoutSec $timeout
                $in = [long]$response.usage.prompt_tokens
                $out = [long]$response.usage.completion_tokens
                # Counted per call: if a later call of this attempt fails, this one was still paid for.
                if ($response.usage) { $CheckpointContext.AddUsage($in, $out) }
                $usage['prompt_tokens'] += $in
                $usage['completion_tokens'] += $out
                $content = $response.choices[0].message.content
                if ($content -is [System.Collections.IEnumerable] -and $content -isnot [string]) {
                    $content = (@($content | ForEach-Object { $_.text }) -join '')
                }
                [pscustomobject]@{ content = [string]$content; prompt_tokens = $in; completion_tokens = $out }
            })
        return [string]$reply.content
    }

    $question = [string]$_.question
    $gold = Get-FinalNumber ('#### ' + ([string]$_.answer -split '####')[-1])
    $messages = @(@{ role = 'user'; content = $config.solve_prompt.Replace('{question}', $question) })
    $initialResponse = Invoke-Chat $messages
    $messages += @{ role = 'assistant'; content = $initialResponse }
    $messages += @{ role = 'user'; content = $config.review_prompt }
    $revisedResponse = Invoke-Chat $messages

    $initial = Get-FinalNumber $initialResponse
    $revised = Get-FinalNumber $revisedResponse
    $initialCorrect = $null -ne $initial -and $null -ne $gold -and $initial -eq $gold
    $revisedCorrect = $null -ne $revised -and $null -ne $gold -and $revised -eq $gold
    [pscustomobject][ordered]@{
        question         = $question
        gold             = $gold
        initial_answer   = $initial
        revised_answer   = $revised
        initial_correct  = $initialCorrect
        revised_correct  = $revisedCorrect
        class            = '{0}->{1}' -f $(if ($initialCorrect) { 'correct' } else { 'incorrect' }), $(if ($revisedCorrect) { 'correct' } else { 'incorrect' })
        initial_response = $initialResponse
        revised_response = $revisedResponse
        usage            = $usage
        cached_calls     = $CheckpointContext.CacheHits
    }
}

$run = @{
    Dataset         = $Dataset
    Process         = $process
    Model           = $Model
    Config          = $config
    Seed            = $Seed
    OutputDirectory = $OutputDirectory
    ThrottleLimit   = $ThrottleLimit
    MaxRetries      = $MaxRetries
}
foreach ($name in 'Limit', 'MaxCost', 'Shard', 'PricingFile', 'EstimatedCostPerSample', 'IdColumn', 'CacheDirectory', 'NoCache', 'RateLimit', 'TokenRateLimit') {
    if ($PSBoundParameters.ContainsKey($name)) { $run[$name] = $PSBoundParameters[$name] }
}

# One RunSummary per dataset x model (none under -WhatIf, which prints what each run would do and cost).
Start-CheckpointRun @run -WhatIf:$WhatIfPreference
