# The help of the Checkpoint cmdlets: all the prose of Get-Help. Build-Help.ps1 turns it into MAML, taking
# types, positions, pipeline input, aliases, parameter sets and defaults from the built cmdlets themselves.
#
# Layout: Commands.<cmdlet> = @{ Synopsis; Description; Parameters; Examples; Inputs; Outputs; Notes;
# RelatedLinks }. A parameter's value is its description, or @{ Description; DefaultValue; Wildcards } where
# the default the code shows is not what a reader needs (0 meaning "no limit") or where the parameter takes
# wildcards. Paragraphs are separated by blank lines; lines starting with '- ' or whitespace keep their own
# line. The build fails when a parameter is missing or unknown, or a cmdlet has fewer than two examples.
@{
    Commands = @{
        'Start-CheckpointRun'  = @{
            Synopsis     = 'Runs a script block once for each sample of a dataset, checkpointing every result so that the run can be resumed.'
            Description  = @'
Start-CheckpointRun reads a dataset (a .csv or .jsonl file), and for each sample (row) that is not already done runs the -Process script block, with the sample as $_ and a context object as $CheckpointContext. Every attempt, success or failure, is appended to a checksummed JSONL file in the output directory as soon as it ends. When the process is stopped, whether by Ctrl+C, SIGTERM, a crash or kill -9, the samples already written are kept, and the next Start-CheckpointRun or Resume-CheckpointRun with the same dataset, model, configuration and seed processes only the rest.

One run is made for each pair of dataset and model: -Dataset takes several files (and wildcards, and file objects from Get-ChildItem through the pipeline), and -Model several model names. Each run has a stable run id, yyyyMMdd_dataset_model_hash8, where the date is the day (UTC) the run first started and hash8 covers the model, the configuration and the seed. Starting the same run again on a later day finds the existing run in the output directory and continues it instead of beginning a new one: the first start writes the run id into a marker file, {dataset}_{model}_{hash8}.runid, that every later start reads, so starts on either side of 00:00 UTC join one run.

What the block outputs is the sample's result: nothing is stored as null, one object as itself, several as an array, as JSON nested up to 64 levels (deeper output, such as a reference cycle or a rich .NET object, fails the attempt with OutputNotSerializable); Get-CheckpointResult rebuilds it as objects. Inside the block, $ErrorActionPreference is Stop: any error, terminating or not, fails the attempt, unless the block writes it with an explicit -ErrorAction Continue. With the default -ThrottleLimit 1 and no -TimeoutSeconds, the block runs in the current session, one sample at a time, and sees the caller's variables and functions. With -ThrottleLimit above 1, or with -TimeoutSeconds, it runs in runspaces of its own, one per worker: there it sees only the default commands, the modules of -ImportModule, and the variables it names as $using:name, whose values are read once when the run starts; it starts at the caller's location, and what it writes to its other streams (warnings, Write-Host, information, verbose, errors written with -ErrorAction Continue) comes out on this command's streams as it is written.

A failed attempt is recorded with the error's type and message (in the JSONL and in the human-readable {RunId}_errors.log, secrets masked). A transient failure (HTTP 408, 429 or 5xx, a timeout, a network or IO error, or what -RetryOn adds and -NoRetryOn removes) is retried up to -MaxRetries times, after a delay that grows exponentially from -RetryDelaySeconds, with jitter, or as long as the server's Retry-After header asks, never longer than -MaxRetryDelaySeconds. A permanent failure (a script error, HTTP 400, 401, 403 or 404, for example) is not retried. A sample that failed for good is Failed, and the next start or resume tries it again, unless -SkipFailed is used.

When -MaxConsecutiveFailures transient failures come in a row, across samples, the API is taken to be down: retries stop and the samples concerned stay pending, new samples wait, and the run probes with one sample after -OutageWaitSeconds, doubling the wait each time. Any answer that is not a transient failure ends the outage. If it lasts longer than -MaxOutageMinutes, the command stops with the error ApiOutage; every result is kept, and Resume-CheckpointRun finishes the pending samples later.

A 429 (Too Many Requests) is back-pressure, not an outage: it never counts toward -MaxConsecutiveFailures. It pauses the start of new calls across the run for its Retry-After (capped by -MaxRetryDelaySeconds), or briefly when there is none, and halves the number of samples in flight; successes raise it again by one at a time, up to -ThrottleLimit. A sample whose retries 429s used up stays pending. Only 429s with no success for -MaxOutageMinutes stop the run with ApiOutage. -RateLimit and -TokenRateLimit keep the run under the key's limits, so that it seldom gets a 429 at all. A sample waiting out the backoff before a retry does not hold a worker: the next samples run meanwhile, at any -ThrottleLimit.

$CheckpointContext gives the block the run id, the sample id, the attempt number (counting attempts of earlier sessions), the model, the configuration, the seed, the shard, and a random number generator seeded from the run seed and the sample id. Get-Random inside the block, and in the functions and scripts it calls, is seeded the same way, so results do not depend on order, parallelism, or on which machine processes the sample.

Configuration entries whose names contain the whole word key, apikey, token, secret, password, passwd, pwd, credential(s) or authorization, and any SecureString value, are secrets: the block sees them in $CheckpointContext.Config, but they are never written to disk and never part of the config hash. max_tokens or keywords are not secrets, because only whole words count.

The run writes its state, including the text of -Process and every run-time setting, to {RunId}_resume_state.json, so that Resume-CheckpointRun can continue it without repeating the parameters. The stored block is signed with your own key (CHECKPOINT_KEY_FILE, or a key made on first use in your profile, readable by you alone), and Resume-CheckpointRun runs only a block that key signed, so a block that someone else wrote into the state file is refused with StoredProcessUntrusted. See about_Checkpoint for the files of a run, what is guaranteed after a crash, sharding and secrets.

For each run, the cmdlet writes a RunSummary when the run ends. Progress is shown with Write-Progress, and -Verbose reports the checkpoint file, the samples skipped, each failed attempt and retry, outages, and each checkpoint. With -WhatIf, it reports for each run how many samples it would process, without creating or changing any file.
'@
            Parameters   = @{
                Dataset                = @{
                    Description = @'
The dataset files, .csv (RFC 4180, with a header row) or .jsonl (one JSON object per line). Wildcards are expanded; relative paths are relative to the current location. File objects from Get-ChildItem bind by their FullName or PSPath property.

The sample id is the id column (or the -IdColumn column); when the dataset has no such column, the id is 'r' followed by 16 hex digits of the SHA-256 of the row's content, so that it does not change when rows are reordered. Two rows with the same id, or an empty id, are an error.
'@
                    Wildcards   = $true
                }
                Process                = @'
The work for one sample. The sample is $_ (and $args[0]): a PSCustomObject with one property per column, in file order. The context is $CheckpointContext (RunId, SampleId, Attempt, Model, Config, Seed, SampleSeed, Random, Shard). What the block outputs is stored as the sample's result; an error fails the attempt.

The text of the block is stored in the run's state file so that Resume-CheckpointRun can run it again. Variables the block names as $using:name are read when the run starts or resumes, from the session that starts or resumes it; this works in the current session and in the runspaces of a parallel run alike. Other variables of the caller are visible only when the block runs in the current session (-ThrottleLimit 1 without -TimeoutSeconds).
'@
                Model                  = @{
                    Description  = 'The model names. One run is made for each dataset and each model; the model name is part of the run id and of the config hash, and the block sees it as $CheckpointContext.Model.'
                    DefaultValue = 'default'
                }
                Config                 = @{
                    Description  = @'
The configuration of the run, such as temperature or max_tokens: part of the config hash, so a change starts a different run. The block sees it as $CheckpointContext.Config. Nested hashtables, and hashtables inside arrays, are allowed.

Entries that are secrets (a name with the whole word key, apikey, token, secret, password, passwd, pwd, credential, credentials or authorization, such as api_key or AuthToken; or a SecureString value) are given to the block but never written to disk nor hashed, and their values are masked in error messages. A resumed run therefore does not have them: have the block read secrets from the environment or a vault.
'@
                    DefaultValue = 'None (an empty hashtable)'
                }
                Seed                   = 'The run seed, part of the config hash. Each sample gets its own random stream, $CheckpointContext.Random, seeded from this seed and the sample id ($CheckpointContext.SampleSeed), and Get-Random in the block, and in the functions and scripts it calls, is seeded with it too, so that the same sample draws the same numbers on every attempt, machine and shard.'
                OutputDirectory        = 'The folder where the run files are written, created if it is missing. Relative paths are relative to the current location.'
                IdColumn               = @{
                    Description  = 'The column (or JSON property) that holds the sample id. The column must exist and its values must be unique and not empty.'
                    DefaultValue = 'id, or an id derived from the content when there is no id column'
                }
                Shard                  = @'
The shard to process, as k/n (for example 2/4): the samples whose id hashes to shard k of n. The split depends on the sample id alone, so it is the same on every machine, and reordering or appending rows never moves a sample to another shard. Each shard writes its own files, {RunId}_shard-k-of-n.jsonl and so on, so that n processes or machines can share one run. Get-CheckpointStats and Get-CheckpointResult read all shards of a run found in the output directory as one run, and a shard counts the samples completed in the run's other shard files as done, so a run begun as 4 shards can be finished as 2, or as 1.

-Shard auto reads the shard from the scheduler's array task variables: Slurm (SLURM_ARRAY_TASK_ID with _MIN, _MAX, _STEP and _COUNT; a sparse array such as --array=1,3,5 is refused), AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, 0-based, with AWS_BATCH_JOB_ARRAY_SIZE) or Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, 0-based, with the count from -ShardCount or CHECKPOINT_SHARD_COUNT). The verbose stream says which source was used.
'@
                ShardCount             = 'With -Shard auto in a Kubernetes Indexed Job: the number of shards, which is the Job''s completions (Kubernetes does not expose it). CHECKPOINT_SHARD_COUNT in the environment does the same.'
                CheckpointEvery        = 'How many records are written between two checkpoints. Every record is written whole with one write as soon as it is made; every N records (at most once every 50 ms), and when the run ends, the results and the errors log are flushed to disk (fsync) and the state file is rewritten. Lower values lose less on a power failure and cost more disk flushes.'
                NoResume               = 'Processes every sample again, completed ones included. The new records are appended to the same run; for each sample the latest record is the one that counts. To start from nothing instead, use -Overwrite.'
                Overwrite              = 'Deletes the files of the run (results, state, errors log, lock and sidecar files), or with -Shard those of the shard, before starting it, asking for confirmation as -Confirm says; with the run''s last part goes its run id marker, so the run starts again under today''s date. A run that another live process is writing is not deleted.'
                ThrottleLimit          = 'The most samples in flight at once, from 1 to 1024. With 1 (and no -TimeoutSeconds) the block runs in the current session. Above 1, that many worker threads each run the block in a runspace of their own, with the default commands and the modules of -ImportModule; the block then sees the caller''s variables only through $using:. Records are still written one at a time, whole.'
                MaxRetries             = 'How many times a sample whose attempt failed transiently is tried again, from 0 to 1000. Every attempt is recorded; the block can tell a retry by $CheckpointContext.Attempt, which counts the attempts of earlier sessions too. Permanent failures are not retried.'
                TimeoutSeconds         = @{
                    Description  = 'The longest one attempt may take, in seconds (up to 7 days). An attempt that runs longer is stopped and fails with a TimeoutException, which is transient and so retried. With a timeout, the block runs in a runspace of its own, as with -ThrottleLimit above 1.'
                    DefaultValue = 'None (no limit)'
                }
                Limit                  = @{
                    Description  = 'Processes at most this many samples in each run of this call, then ends the run with Status Incomplete. Useful to try a block on a few samples before the whole dataset.'
                    DefaultValue = 'None (all samples)'
                }
                PassThru               = 'Also writes one SampleResult for each sample finished in this call (completed, or failed for good), as it is finished, before the RunSummary.'
                SkipFailed             = 'Leaves samples that failed for good alone, instead of trying them again. They stay Failed. Samples left pending by a stopped run or an outage are still processed.'
                RetryDelaySeconds      = 'The base delay between retries, in seconds (0 to 3600). The delay grows exponentially with each retry of a sample, with random jitter so that parallel workers do not retry in step. A Retry-After header from the server replaces it.'
                MaxRetryDelaySeconds   = 'The longest wait between two attempts of a sample, in seconds (0 to 86400), a wait asked for by a Retry-After header included.'
                RetryOn                = 'Failures to treat as transient, and so retry, beyond the built-in rule: exception type names, full (System.IO.IOException) or short (IOException), matched against the error and each exception inside it, or HTTP status codes (409). Anything else (a status outside 100-599, a name with spaces) is refused, since it could never match.'
                NoRetryOn              = 'Failures never to retry, in the same forms as -RetryOn, such as 503 for a server that answers 503 when a request can never succeed. -NoRetryOn wins over -RetryOn, and both win over the built-in rule.'
                MaxConsecutiveFailures = 'How many transient failures in a row, across samples, mean that the API is down (at least 1). Then retries stop and those samples stay pending, new samples wait, and the run probes with one sample after -OutageWaitSeconds.'
                MaxOutageMinutes       = 'The longest an API outage is waited out, in minutes (0 to 10080, a week). Then the command stops with the error ApiOutage: every result is kept, the samples that failed during the outage are pending, and Resume-CheckpointRun finishes them once the API is back.'
                OutageWaitSeconds      = 'The first wait of an API outage before the run probes again with one sample, in seconds (0 to 86400). Each later wait of the same outage is twice as long.'
                Pricing                = 'Prices by model name, per million tokens: @{ ''gpt-4o'' = @{ InputPerMillion = 2.50; OutputPerMillion = 10.00 } }. An attempt that reports tokens (usage.prompt_tokens and usage.completion_tokens, or usage.input_tokens and usage.output_tokens, in its result or one level down, or $CheckpointContext.AddUsage) costs its tokens times its model''s price, unless the block sets the cost with $CheckpointContext.AddCost. Every attempt counts, failed ones too. Without -Pricing or -PricingFile, the dated pricing.json shipped with the module is used; prices change, so check it.'
                PricingFile            = 'A JSON file of prices by model, in the form of the pricing.json shipped with the module: { "models": { "gpt-4o": { "InputPerMillion": 2.5, "OutputPerMillion": 10 } } }.'
                CacheDirectory         = 'Where $CheckpointContext.Cached($key, { ... }) keeps the calls it makes: append-only, checksummed segment files, one per process, shared by every run that names the folder (a new -Config or -ReviewPrompt then pays only for the calls that changed). By default <OutputDirectory>/cache. Kept by the run, so a resume uses the same cache. See about_Checkpoint, RESPONSE CACHE.'
                NoCache                = 'Turns the response cache off: $CheckpointContext.Cached runs its block every time and stores nothing. Kept by the run.'
                MaxCost                = 'A budget: once the run''s total cost (every attempt, earlier sessions included) reaches it, no new sample starts, the samples in flight finish, and the run ends with status BudgetReached. Everything is kept; resume it with a higher -MaxCost to go on. It must be above 0 (a script that computes what is left of a budget gets an error at 0, never an unlimited run); leave it out for no budget.'
                RateLimit              = 'Requests per minute that this process starts at most, shared by all its workers: the key''s requests-per-minute limit, or its share of it when several processes or shards use the key (each process has its own limiter, so give each shard the key''s limit divided by the number of shards running at once). Each attempt takes one request as it starts; a block that makes several calls per sample calls $CheckpointContext.WaitForRate() before each one instead, and its attempts then take none. At most a second''s worth (RateLimit / 60, at least 1) starts at once. Kept in the run; a resume may change it. A positive integer; leave it out for no limit.'
                TokenRateLimit         = 'Tokens per minute that this process uses at most (per shard, as -RateLimit), counted from the usage each attempt reports ($CheckpointContext.AddUsage, or the usage in its result) as soon as it is reported: when the tokens of the last minute are spent, no new call starts until they refill. Each call reserves, before it starts, the average usage of the run''s calls so far, or the estimate given with $CheckpointContext.WaitForRate(<estimated tokens>); the reported usage then corrects it. Kept in the run; a resume may change it. A positive integer; leave it out for no limit.'
                EstimatedCostPerSample = 'For -WhatIf before any sample has a cost: the expected cost of one sample, used to estimate what the run would cost. Once samples have costs, their average is used instead.'
                ImportModule           = 'Modules to import into each runspace of a run whose block runs in runspaces of its own (-ThrottleLimit above 1, or -TimeoutSeconds): names, or paths to .psd1, .psm1 or .dll files (a relative path is taken from the current location and kept absolute for resumes). A run in the current session uses the modules already loaded there instead. An entry that names no module is an ImportModuleNotFound error before anything runs; a module that fails to import stops the run with ImportModuleFailed.'
                WhatIf                 = 'Shows, for each run, its run id and how many samples it has, are done, are pending and have failed, and how many it would process. No file is created or changed.'
                Confirm                = 'Prompts for confirmation before each run starts, and before -Overwrite deletes a run.'
            }
            Examples     = @(
                @{
                    Title   = 'Run every CSV file on two models'
                    Code    = @'
$config = @{ temperature = 0; max_tokens = 256 }
Get-ChildItem data/*.csv | Start-CheckpointRun -Model gpt-4o, claude-sonnet -Config $config -Process {
    $request = @{
        Method      = 'Post'
        Uri         = 'https://llm.example.com/v1/complete'
        Headers     = @{ Authorization = "Bearer $env:LLM_API_KEY" }
        ContentType = 'application/json'
        Body        = @{
            model       = $CheckpointContext.Model
            prompt      = $_.question
            temperature = $CheckpointContext.Config.temperature
            max_tokens  = $CheckpointContext.Config.max_tokens
        } | ConvertTo-Json
    }
    $reply = Invoke-RestMethod @request
    [pscustomobject]@{ answer = $reply.text; correct = $reply.text.Trim() -eq $_.expected }
}
'@
                    Remarks = @'
Makes one run for each CSV file and each model, so four runs for two files. Each row's question is sent to the model and the answer is stored with whether it matches the expected column. The API key is read from the environment inside the block, so it never reaches the run files and a later Resume-CheckpointRun finds it too. If the process stops half way, running the same command again skips the samples already done.
'@
                }
                @{
                    Title   = 'Split a run over four machines'
                    Code    = @'
# On machine 2 of 4, writing to a shared folder:
Start-CheckpointRun -Dataset questions.jsonl -Model gpt-4o -Seed 42 -Shard 2/4 `
    -OutputDirectory /mnt/shared/runs -Process {
        Invoke-MyModel -Prompt $_.prompt -Seed $CheckpointContext.SampleSeed
    }

# Anywhere, when the four shards are done:
Get-CheckpointStats -OutputDirectory /mnt/shared/runs -PerShard
'@
                    Remarks = @'
Each machine runs the same command with its own -Shard (1/4 to 4/4) and processes the quarter of the samples whose id hashes to its shard, writing its own {RunId}_shard-2-of-4.* files. Get-CheckpointStats -PerShard shows one row per shard; without -PerShard the shards are counted as one run.
'@
                }
                @{
                    Title   = 'Eight requests at a time, with a timeout and a module'
                    Code    = @'
$endpoint = 'https://llm.example.com/v1/complete'
Start-CheckpointRun data/questions.csv -Model gpt-4o -ThrottleLimit 8 -TimeoutSeconds 120 `
    -ImportModule LlmTools -Process {
        Invoke-LlmCompletion -Uri $using:endpoint -Model $CheckpointContext.Model -Prompt $_.question
    }
'@
                    Remarks = @'
Eight workers each run the block in a runspace of their own, into which the LlmTools module is imported. $using:endpoint passes the caller's variable in. An attempt that takes longer than two minutes is stopped and retried as a transient failure.
'@
                }
                @{
                    Title   = 'Try the block on a few samples first'
                    Code    = @'
Start-CheckpointRun data/questions.csv { Get-Answer $_.question } -Model gpt-4o -Limit 5 -PassThru |
    Format-Table SampleId, Status, Output
Start-CheckpointRun data/questions.csv { Get-Answer $_.question } -Model gpt-4o -WhatIf
'@
                    Remarks = @'
The first command processes five samples and shows each result as it finishes (the RunSummary comes last). The second shows what a full run would do: the run id and how many samples are done and pending, without processing anything. Because the dataset, model, configuration and seed are the same, both commands name the same run, and a later full run skips the five samples already done.
'@
                }
                @{
                    Title   = 'Tune retries for a rate-limited API'
                    Code    = @'
$retry = @{
    MaxRetries             = 6
    RetryDelaySeconds      = 2
    MaxRetryDelaySeconds   = 60
    RetryOn                = 409
    MaxConsecutiveFailures = 20
    MaxOutageMinutes       = 30
}
Start-CheckpointRun data/questions.csv -Model gpt-4o @retry -Process {
    Get-Answer -Prompt $_.question -Model $CheckpointContext.Model
}
Get-CheckpointResult -RunId 2026* -Status Failed | Select-Object SampleId, Attempt, Error
'@
                    Remarks = @'
A transient failure (such as HTTP 429, or 409, which -RetryOn adds) is retried up to six times, waiting from about 2 seconds up to a minute, or as long as the server's Retry-After header asks. Twenty transient failures in a row are taken as an outage, waited out for up to 30 minutes. The second command lists the samples that failed, with their last error.
'@
                }
            )
            Inputs       = @(
                @{ Type = 'System.String[]'; Description = 'Dataset paths, by value or by the FullName or PSPath property of the input object (a FileInfo from Get-ChildItem, for example).' }
            )
            Outputs      = @(
                @{ Type = 'Checkpoint.RunSummary'; Description = 'One for each run (dataset and model) when it ends: RunId, Dataset, Model, Shard, TotalSamples, CompletedSamples, FailedSamples, PendingSamples, ProcessedThisRun, SkippedThisRun, Duration, Status (Completed, Incomplete or Interrupted), OutputDirectory and Path.' }
                @{ Type = 'Checkpoint.SampleResult'; Description = 'With -PassThru, one for each sample finished: RunId, SampleId, Status, Attempt, Output, OutputJson, Error, DurationMs, CompletedAt and Shard.' }
            )
            Notes        = @'
Only one process at a time can write a run (or one shard of it): the run's .lock file is locked by the operating system, and a second Start-CheckpointRun or Resume-CheckpointRun on the same run fails with the error id RunLocked, naming the process that holds it. The lock dies with its process, so a killed run never blocks the next one.

Ctrl+C, and on Linux and macOS SIGTERM (what Slurm, Kubernetes and systemd send before they kill), stop the run cleanly: the samples in flight stay pending, the files are flushed to disk, and the run's status becomes Interrupted. After kill -9, only the samples in flight are lost; they are processed again by the next start or resume, so a sample may be processed more than once (at least once), and a block that has side effects outside the run should be safe to repeat.

If the dataset changed since the run last used it, a warning says so; samples are matched by id, so completed samples are skipped and new ids are processed. The run id names the dataset by its file name only, so a run keeps to the file it was made from: another file of that name with other content (a split's main/test.csv and socratic/test.csv, say), or another -IdColumn, is refused with RunOfOtherDataset before anything runs; give it an -OutputDirectory of its own.

Errors have stable ids, the first part of $_.FullyQualifiedErrorId, that scripts can match: DatasetNotFound, DatasetEmpty, DatasetFormatUnknown, MalformedCsv, MalformedJson, DuplicateSampleId, EmptySampleId, IdColumnNotFound, InvalidShard, RunLocked, NewerFormatVersion, RunOfOtherDataset (the run of this id was made from another file of the same name with other content, or with another -IdColumn), UsingVariableNotSet (the block uses $using:name and the session has no such variable), and, which stop the command, InvalidPricing, ApiOutage, CheckpointWriteFailed and OutputDirectoryUnwritable.
'@
            RelatedLinks = @('about_Checkpoint', 'Resume-CheckpointRun', 'Get-CheckpointStats', 'Get-CheckpointResult', 'Remove-Checkpoint', 'Get-CheckpointCache', 'Clear-CheckpointCache')
        }

        'Resume-CheckpointRun' = @{
            Synopsis     = 'Continues a checkpointed run from its state file, processing pending samples and retrying failed ones.'
            Description  = @'
Resume-CheckpointRun continues runs that Start-CheckpointRun began. It reads what the run's state file ({RunId}_resume_state.json) keeps: the dataset path, the id column, the model, the configuration (without its secrets), the seed, the shard, the text of the -Process block, and the run-time settings the run was started with (-CheckpointEvery, -MaxRetries, -ThrottleLimit, -TimeoutSeconds, the retry and outage settings, -ImportModule). Then it processes the samples that have no record yet or were left pending, and tries again those that failed, exactly as Start-CheckpointRun with the same parameters would. A run-time parameter given to Resume-CheckpointRun replaces the stored setting, and is stored for later resumes.

Runs are chosen by -RunId (wildcards allowed, matched against the runs in the output directory), by -Path (a run's .jsonl file), or by -Latest (the run not yet completed that checkpointed most recently). RunSummary and RunStats objects can be piped in: their RunId and OutputDirectory properties bind by name. Each shard of a run whose files are in the directory is resumed in turn.

Resuming is idempotent: a completed run is left as it is and its RunSummary is returned, with ProcessedThisRun 0. A resumed run keeps its run id, even on a later day.

The stored block runs as text, in the current session (or in runspaces of its own, as the run's -ThrottleLimit and -TimeoutSeconds say); its $using: variables are read from the session that resumes it. Because a state file that someone else could write amounts to a script, treat an output directory like a folder of scripts: resume only runs whose files you trust. The state file carries a checksum; when it was changed outside the module, the stored block is not run and the run is not resumed unless -Process is given anew. Configuration secrets are never stored, so a resumed block does not find them in $CheckpointContext.Config and should read them from the environment or a vault.

When the state file is missing or damaged, the run cannot be resumed: start it again with Start-CheckpointRun and the same -Dataset, -Model, -Config and -Seed. The completed samples in its .jsonl file are kept and skipped.
'@
            Parameters   = @{
                RunId                  = @{
                    Description = 'The ids of the runs to resume. Wildcards are matched against the runs found in the output directory, so a pattern can never reach outside it. A run id without wildcards that matches no run is an error (RunNotFound).'
                    Wildcards   = $true
                }
                Path                   = 'The path of a run''s results file, {RunId}.jsonl or {RunId}_shard-k-of-n.jsonl. Its folder is taken as the output directory, and every shard of the run found there is resumed.'
                Latest                 = 'Resumes the run in the output directory that is not completed and that checkpointed (or, if it never did, started) most recently. When every run is completed, nothing is resumed and a verbose message says so; when the output directory does not exist, the error is RunNotFound.'
                OutputDirectory        = 'The folder that holds the runs, for -RunId and -Latest. Relative paths are relative to the current location.'
                Process                = 'A script block to run instead of the one stored in the run''s state file, for example to fix a bug in it, or because the state file was changed outside the module or its block is not signed with your key. The new block is stored, signed with your key, and used by later resumes.'
                TrustStoredProcess     = 'Runs the block stored in the run''s state file even though it is not signed with your key (a run of a release before signing, another user''s run, or a block changed since), and signs it with your key for later resumes. Read the block in the state file first: whoever could write that file could have changed it. It asks before it goes on unless -Confirm:$false is given; -WhatIf only says what it would do.'
                ThrottleLimit          = @{
                    Description  = 'The most samples in flight at once, from 1 to 1024. Above 1, the block runs in runspaces of its own, as with Start-CheckpointRun.'
                    DefaultValue = 'The value the run was started with'
                }
                MaxRetries             = @{
                    Description  = 'How many times a sample whose attempt failed transiently is tried again, from 0 to 1000.'
                    DefaultValue = 'The value the run was started with'
                }
                TimeoutSeconds         = @{
                    Description  = 'The longest one attempt may take, in seconds (up to 7 days); a longer attempt is stopped and retried as a transient failure.'
                    DefaultValue = 'The value the run was started with (none: no limit)'
                }
                Limit                  = @{
                    Description  = 'Processes at most this many samples in each run (and each shard) resumed by this call, then ends it with Status Incomplete.'
                    DefaultValue = 'None (all samples)'
                }
                PassThru               = 'Also writes one SampleResult for each sample finished in this call (completed, or failed for good), as it is finished, before the RunSummary.'
                SkipFailed             = 'Leaves samples that failed for good alone, processing only those with no record yet or left pending.'
                RetryDelaySeconds      = @{
                    Description  = 'The base delay between retries, in seconds (0 to 3600); it grows exponentially, with jitter, and a Retry-After header replaces it.'
                    DefaultValue = 'The value the run was started with'
                }
                MaxRetryDelaySeconds   = @{
                    Description  = 'The longest wait between two attempts of a sample, in seconds (0 to 86400), Retry-After included.'
                    DefaultValue = 'The value the run was started with'
                }
                RetryOn                = @{
                    Description  = 'Failures to treat as transient beyond the built-in rule: exception type names (full or short) or HTTP status codes.'
                    DefaultValue = 'The value the run was started with'
                }
                NoRetryOn              = @{
                    Description  = 'Failures never to retry: exception type names (full or short) or HTTP status codes. It wins over -RetryOn.'
                    DefaultValue = 'The value the run was started with'
                }
                MaxConsecutiveFailures = @{
                    Description  = 'How many transient failures in a row, across samples, mean that the API is down.'
                    DefaultValue = 'The value the run was started with'
                }
                MaxOutageMinutes       = @{
                    Description  = 'The longest an API outage is waited out, in minutes, before the command stops with the error ApiOutage.'
                    DefaultValue = 'The value the run was started with'
                }
                OutageWaitSeconds      = @{
                    Description  = 'The first wait of an API outage before probing again, in seconds; each later wait doubles.'
                    DefaultValue = 'The value the run was started with'
                }
                Pricing                = @{
                    Description  = 'Prices by model name, per million tokens: @{ ''gpt-4o'' = @{ InputPerMillion = 2.50; OutputPerMillion = 10.00 } }, used for the cost of attempts that report tokens.'
                    DefaultValue = 'The value the run was started with, else the shipped pricing.json'
                }
                PricingFile            = @{
                    Description  = 'A JSON file of prices by model, in the form of the pricing.json shipped with the module.'
                    DefaultValue = 'The value the run was started with'
                }
                CacheDirectory         = @{
                    Description  = 'Where $CheckpointContext.Cached keeps calls (see Start-CheckpointRun).'
                    DefaultValue = 'The value the run was started with, else <OutputDirectory>/cache'
                }
                NoCache                = @{
                    Description  = 'Turns the response cache off for this session and keeps that.'
                    DefaultValue = 'The value the run was started with'
                }
                MaxCost                = @{
                    Description  = 'A budget for the run''s total cost, earlier sessions included; a run that stopped with BudgetReached goes on when it is resumed with a higher -MaxCost.'
                    DefaultValue = 'The value the run was started with'
                }
                RateLimit              = @{
                    Description  = 'Requests per minute this process starts at most, shared by all its workers; per shard. A positive integer.'
                    DefaultValue = 'The value the run was started with'
                }
                TokenRateLimit         = @{
                    Description  = 'Tokens per minute this process uses at most, from the usage its attempts report; per shard. A positive integer.'
                    DefaultValue = 'The value the run was started with'
                }
                EstimatedCostPerSample = 'For -WhatIf before any sample has a cost: the expected cost of one sample.'
                ImportModule           = @{
                    Description  = 'Modules (names or paths) to import into each runspace when the block runs in runspaces of its own. Checked before anything runs, as with Start-CheckpointRun.'
                    DefaultValue = 'The value the run was started with'
                }
                WhatIf                 = 'Shows, for each run, its run id and how many samples it has, are done, are pending and have failed, and how many it would process. No file is created or changed.'
                Confirm                = 'Prompts for confirmation before each run is resumed.'
            }
            Examples     = @(
                @{
                    Title   = 'Resume the run that was interrupted last'
                    Code    = 'Resume-CheckpointRun -Latest -Verbose'
                    Remarks = @'
Finds the most recently active run in ./outputs that is not completed and continues it with its stored block, dataset and settings. -Verbose shows the checkpoint file, how many completed samples were loaded, and each failed attempt.
'@
                }
                @{
                    Title   = 'Resume every run that is not completed'
                    Code    = 'Get-CheckpointStats -OutputDirectory runs | Where-Object Status -ne Completed |
    Resume-CheckpointRun -SkipFailed'
                    Remarks = @'
Get-CheckpointStats lists the runs in ./runs; those not completed are piped to Resume-CheckpointRun, which binds their RunId and OutputDirectory properties. With -SkipFailed, samples that failed for good are left alone.
'@
                }
                @{
                    Title   = 'Resume with a fixed block and more workers'
                    Code    = @'
Resume-CheckpointRun -RunId 20260314_questions_gpt-4o_1a2b3c4d -ThrottleLimit 4 -Process {
    Get-Answer -Prompt $_.question.Trim() -Model $CheckpointContext.Model
}
'@
                    Remarks = @'
Continues one run with a corrected block, which replaces the stored one for later resumes too, on four workers. Samples already completed are kept; the others are processed.
'@
                }
                @{
                    Title   = 'Resume a run from its file, showing what it would do first'
                    Code    = @'
Resume-CheckpointRun -Path ./outputs/20260314_questions_gpt-4o_1a2b3c4d.jsonl -WhatIf
Resume-CheckpointRun -Path ./outputs/20260314_questions_gpt-4o_1a2b3c4d.jsonl
'@
                    Remarks = 'The first command prints how many samples are done, pending and failed and how many would be processed; the second resumes the run.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String[]'; Description = 'Run ids, by the RunId property of the input object, with its OutputDirectory property (RunSummary and RunStats objects have both).' }
            )
            Outputs      = @(
                @{ Type = 'Checkpoint.RunSummary'; Description = 'One for each run (or shard) resumed, when it ends.' }
                @{ Type = 'Checkpoint.SampleResult'; Description = 'With -PassThru, one for each sample finished.' }
            )
            Notes        = @'
A run that another live process is writing cannot be resumed at the same time: the command writes a RunLocked error naming the process. A run killed by kill -9 or a crash holds no lock and can be resumed at once.

Errors have stable ids, the first part of $_.FullyQualifiedErrorId: RunNotFound, NotACheckpointFile, CannotResume (the state file is missing or damaged, keeps no block, or keeps a setting outside its parameter's range), StateChangedOutside (the state file was edited; give -Process), StoredProcessUntrusted (the stored block is not signed with your key, or the key file is missing or open to others; give -Process, or -TrustStoredProcess after reading it), RunLocked, DatasetNotFound (the dataset moved), UsingVariableNotSet (the stored block uses $using:name and the resuming session has no such variable: $using: values are read from the session that resumes), and, which stop the command, InvalidPricing, ApiOutage, CheckpointWriteFailed and OutputDirectoryUnwritable.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Get-CheckpointStats', 'Get-CheckpointResult', 'Remove-Checkpoint', 'Get-CheckpointCache', 'Clear-CheckpointCache')
        }

        'Get-CheckpointStats'  = @{
            Synopsis     = 'Gets the progress of checkpointed runs: samples total, completed, failed and pending, errors, status and times.'
            Description  = @'
Get-CheckpointStats reads the files of runs in an output directory and writes one RunStats object for each run. Its properties are flat (strings, numbers and dates), so Export-Csv writes every one as a column and Import-Csv gives the same values back.

Without -RunId it reports every run in the directory. A sharded run is reported as one row, counting the samples of all its shards found in the directory (a sample completed in any of its files counts as completed, else its latest record counts); with -PerShard it is reported as one row per shard.

Status is Running when a live process holds the run's lock, Unknown when a state file of the run is missing or damaged (the number of samples is kept there only; a warning says which file, and Start-CheckpointRun with the run's dataset rebuilds it), Completed when every sample's latest record is completed, Interrupted when the run was stopped with Ctrl+C or the pipeline was stopped, BudgetReached when it stopped at its -MaxCost, and Incomplete otherwise (failed or pending samples remain, or the process died).

The cmdlet only reads: it never takes a run's lock and never changes a file, so it can watch a run that another process is writing, and it reports what it can from a damaged file, with a warning for each line it skipped and for a damaged tail. Its RunId and OutputDirectory properties bind to the parameters of Resume-CheckpointRun, Get-CheckpointResult and Remove-Checkpoint through the pipeline.
'@
            Parameters   = @{
                RunId           = @{
                    Description = 'The ids of the runs to report. Wildcards are matched against the runs found in the output directory. When omitted, every run in the directory is reported. A run id without wildcards that matches no run is an error (RunNotFound).'
                    Wildcards   = $true
                    DefaultValue = 'All runs'
                }
                Path            = 'The path of a run''s results file, {RunId}.jsonl or {RunId}_shard-k-of-n.jsonl. The run it belongs to is reported, with all its shards found in the same folder.'
                OutputDirectory = 'The folder that holds the runs. Relative paths are relative to the current location.'
                PerShard        = 'Writes one row for each shard of a sharded run (and one for its unsharded files, if any), instead of one row for the whole run. The Shards property then names the shard.'
            }
            Examples     = @(
                @{
                    Title   = 'Show the progress of every run'
                    Code    = 'Get-CheckpointStats'
                    Remarks = 'Lists the runs in ./outputs with their shards, status, and how many samples are done out of the total.'
                }
                @{
                    Title   = 'Export the stats of all runs to a CSV file'
                    Code    = 'Get-CheckpointStats -OutputDirectory runs | Export-Csv stats.csv -NoTypeInformation'
                    Remarks = 'Writes one line per run, with every property as a column: RunId, Dataset, Model, ConfigHash, Shards, TotalSamples, CompletedSamples, FailedSamples, PendingSamples, ErrorCount, PercentComplete, StartedAt, LastCheckpoint, Status, OutputDirectory and Path.'
                }
                @{
                    Title   = 'Watch a sharded run while it is written'
                    Code    = @'
while ($true) {
    Get-CheckpointStats -RunId 20260314_questions_gpt-4o_* -PerShard |
        Format-Table Shards, Status, CompletedSamples, FailedSamples, PercentComplete
    Start-Sleep -Seconds 30
}
'@
                    Remarks = 'Shows one row per shard every 30 seconds. Reading never blocks or disturbs the processes that write the shards.'
                }
                @{
                    Title   = 'Find runs with errors'
                    Code    = @'
Get-CheckpointStats | Where-Object ErrorCount -gt 0 |
    Sort-Object ErrorCount -Descending |
    Select-Object RunId, FailedSamples, ErrorCount
'@
                    Remarks = 'ErrorCount counts every failed attempt, retries included; FailedSamples counts the samples whose latest attempt failed.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String[]'; Description = 'Run ids, by the RunId property of the input object, with its OutputDirectory property.' }
            )
            Outputs      = @(
                @{ Type = 'Checkpoint.RunStats'; Description = 'One for each run (or, with -PerShard, each shard): RunId, Dataset, Model, ConfigHash, Shards, TotalSamples, CompletedSamples, FailedSamples, PendingSamples, ErrorCount, PercentComplete, StartedAt, LastCheckpoint (UTC), Status, OutputDirectory and Path.' }
            )
            Notes        = @'
StartedAt and LastCheckpoint are in UTC. PendingSamples counts samples with no record yet, including those that were in flight when a process died.

For a sharded run read as one row, TotalSamples is the number of samples in the whole dataset, so the samples of shards not started yet count as pending and the run is not Completed until every shard is. With -PerShard, each row counts the samples of its shard.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Resume-CheckpointRun', 'Get-CheckpointResult', 'Remove-Checkpoint', 'Get-CheckpointCache', 'Clear-CheckpointCache')
        }

        'Get-CheckpointResult' = @{
            Synopsis     = 'Gets the latest result of each sample of checkpointed runs, with its output rebuilt as objects.'
            Description  = @'
Get-CheckpointResult reads the results files of runs and writes one SampleResult for each sample: its latest record, in file order. The Output property holds what the -Process block output, rebuilt from the stored JSON as PowerShell objects (objects become PSCustomObjects, arrays become arrays); OutputJson holds the JSON as written. A failed sample has no output, and its Error property says "type: message".

Without -RunId it reads every run in the directory, as Get-CheckpointStats does; each SampleResult carries its RunId. Results can be filtered by status (-Status Completed or Failed) and by sample id (-SampleId). For a sharded run, the results of all its shards in the directory are read together, and for a sample written by several shards its earliest completed record wins, whatever a later failure in another file says; without one, its latest record wins.

Like Get-CheckpointStats, this cmdlet only reads and never takes a run's lock, so it can be used while a run is being written. Lines damaged by a crash are skipped, with a warning giving their line number, because every line carries a CRC-32C checksum.
'@
            Parameters   = @{
                RunId           = @{
                    Description = 'The ids of the runs to read. Wildcards are matched against the runs found in the output directory, so 2026* reads every run started in 2026. When omitted, every run in the directory is read. A run id without wildcards that matches no run is an error (RunNotFound).'
                    Wildcards   = $true
                }
                Path            = 'The path of a run''s results file, {RunId}.jsonl or {RunId}_shard-k-of-n.jsonl. The run it belongs to is read, with all its shards found in the same folder.'
                OutputDirectory = 'The folder that holds the runs, for -RunId. Relative paths are relative to the current location.'
                Status          = 'Which samples to return, by their status: All, Completed, Failed (given up on: retries used up, or a permanent error), or Pending (their last attempt failed but was not their last, because the run stopped or the API looked down, and a resume tries them again). Samples never attempted have no record and are never returned.'
                SampleId        = 'Returns only the samples with these ids (exact, case-sensitive ids; no wildcards).'
            }
            Examples     = @(
                @{
                    Title   = 'Export the failures of every run'
                    Code    = 'Get-CheckpointResult -Status Failed | Select-Object RunId, SampleId, Attempt, Error | Export-Csv failures.csv -NoTypeInformation'
                    Remarks = 'Reads every run in ./outputs and writes one line per sample given up on, with the run it belongs to.'
                }
                @{
                    Title   = 'List the failures of every run started in 2026'
                    Code    = 'Get-CheckpointResult -RunId 2026* -Status Failed | Format-Table RunId, SampleId, Attempt, Error -Wrap'
                    Remarks = 'Shows each sample whose latest attempt failed, with the number of attempts made and the last error.'
                }
                @{
                    Title   = 'Compute the accuracy of two models'
                    Code    = @'
Get-CheckpointResult -RunId *_questions_* -Status Completed |
    Group-Object { $_.RunId.Split('_')[2] } |
    ForEach-Object {
        $correct = @($_.Group | Where-Object { $_.Output.correct }).Count
        [pscustomobject]@{
            Model    = $_.Name
            Samples  = $_.Count
            Accuracy = [math]::Round($correct / $_.Count, 3)
        }
    }
'@
                    Remarks = 'Reads the completed results of every run of the questions dataset, groups them by the model part of the run id, and uses the correct property that the -Process block output for each sample.'
                }
                @{
                    Title   = 'Export the results of one run'
                    Code    = @'
Get-CheckpointResult -Path ./outputs/20260314_questions_gpt-4o_1a2b3c4d.jsonl -Status Completed |
    Select-Object SampleId, @{ n = 'Answer'; e = { $_.Output.answer } }, DurationMs |
    Export-Csv answers.csv -NoTypeInformation
'@
                    Remarks = 'Writes each completed sample''s id, answer and duration to answers.csv.'
                }
                @{
                    Title   = 'Look at a few samples'
                    Code    = @'
Get-CheckpointResult 20260314_questions_gpt-4o_1a2b3c4d -SampleId q17, q42 |
    Select-Object -ExpandProperty Output
'@
                    Remarks = 'Shows the stored output of samples q17 and q42.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String[]'; Description = 'Run ids, by the RunId property of the input object, with its OutputDirectory property (RunSummary and RunStats objects have both).' }
            )
            Outputs      = @(
                @{ Type = 'Checkpoint.SampleResult'; Description = 'One for each sample with a record: RunId, SampleId, Status (Completed, Failed, or Pending: a failed attempt that a resume tries again), Attempt, Output, OutputJson, Error, DurationMs, CompletedAt (UTC) and Shard.' }
            )
            Notes        = @'
Only the latest record of each sample is returned; earlier attempts (and, after -NoResume, earlier results) remain in the .jsonl file and the failed ones in {RunId}_errors.log.

Output is rebuilt from JSON, so it holds PSCustomObjects, arrays, strings, numbers, booleans and nulls, not the original .NET types.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Resume-CheckpointRun', 'Get-CheckpointStats', 'Remove-Checkpoint', 'Get-CheckpointCache', 'Clear-CheckpointCache')
        }

        'Remove-Checkpoint'    = @{
            Synopsis     = 'Deletes every file of checkpointed runs, and nothing else.'
            Description  = @'
Remove-Checkpoint deletes the files of runs: for the run and each of its shards, the results file ({RunId}.jsonl), the state file ({RunId}_resume_state.json), the errors log ({RunId}_errors.log), the lock files ({RunId}.lock and {RunId}.lock.json), the sidecar files of damaged tails ({RunId}.jsonl.damaged-*), temporary files left by an interrupted write, and the run id marker ({dataset}_{model}_{hash8}.runid) when it names the run. It deletes no other file: not the dataset, and not the files of other runs. A file is a run's only when the run has a state file or the file begins with a checksummed record, so a file of the user's that is merely named like a run (20250101_my_results_deadbeef.jsonl) is neither listed by Get-CheckpointStats nor deleted.

Runs are chosen by -RunId (wildcards matched only against the runs found in the output directory) or by -Path. RunStats and RunSummary objects can be piped in.

Deleting cannot be undone, so the cmdlet asks for confirmation for each run by default (its ConfirmImpact is High). -Force or -Confirm:$false deletes without asking; -WhatIf shows what would be deleted and never deletes, even with -Force.

A run that a live process holds (a run being written) is not deleted: the command writes a RunLocked error naming the process, and goes on with the next run. No file of a held run is deleted, not even of its other shards.
'@
            Parameters   = @{
                RunId           = @{
                    Description = 'The ids of the runs to delete. Wildcards are matched against the runs found in the output directory, so a pattern can never name a file outside it. A run id without wildcards that matches no run is an error (RunNotFound).'
                    Wildcards   = $true
                }
                Path            = 'The path of a run''s results file, {RunId}.jsonl or {RunId}_shard-k-of-n.jsonl. The whole run it belongs to is deleted, with all its shards found in the same folder.'
                OutputDirectory = 'The folder that holds the runs. Relative paths are relative to the current location.'
                Force           = 'Deletes without asking for confirmation. -WhatIf still only shows what would be deleted.'
                WhatIf          = 'Shows which runs would be deleted and how many files each has. Nothing is deleted.'
                Confirm         = 'Prompts for confirmation before deleting each run. This is the default; use -Confirm:$false or -Force to delete without asking.'
            }
            Examples     = @(
                @{
                    Title   = 'Delete every completed run without asking'
                    Code    = 'Get-CheckpointStats | Where-Object Status -eq Completed | Remove-Checkpoint -Confirm:$false'
                    Remarks = 'Get-CheckpointStats lists the runs in ./outputs; the completed ones are piped to Remove-Checkpoint, which binds their RunId and OutputDirectory and deletes their files without a prompt.'
                }
                @{
                    Title   = 'See what would be deleted'
                    Code    = 'Remove-Checkpoint -RunId 202603* -OutputDirectory runs -WhatIf'
                    Remarks = 'Shows each run started in March 2026 in ./runs and how many files it has, without deleting anything.'
                }
                @{
                    Title   = 'Delete one run, listing its files'
                    Code    = 'Remove-Checkpoint 20260314_questions_gpt-4o_1a2b3c4d -Force -Verbose'
                    Remarks = 'Deletes the run''s files without asking; -Verbose prints the path of each file deleted.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String[]'; Description = 'Run ids, by the RunId property of the input object, with its OutputDirectory property (RunStats and RunSummary objects have both).' }
            )
            Outputs      = @(
                @{ Type = 'None'; Description = 'The cmdlet writes no objects. With -Verbose it reports each file deleted.' }
            )
            Notes        = @'
To start a run again from nothing in one step, use Start-CheckpointRun -Overwrite, which deletes the run's files the same way first.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Resume-CheckpointRun', 'Get-CheckpointStats', 'Get-CheckpointResult', 'Get-CheckpointCache', 'Clear-CheckpointCache')
        }

        'Get-CheckpointCache'  = @{
            Synopsis     = 'Gets what a response cache holds: its entries, damaged entries, size and age, or the entries themselves.'
            Description  = @'
Get-CheckpointCache reads the response cache that $CheckpointContext.Cached($key, { ... }) keeps: by default the cache folder of an output directory (<OutputDirectory>/cache), or the folder given with -CacheDirectory. It writes one CacheInfo object: the entries a lookup can return (one per key), the damaged entries (they fail their checksum and are never returned), the segment files (one or more per process that wrote to the cache), their size, and when the oldest and newest entries were made.

With -Entry it writes one CacheEntryInfo for each entry instead: the key's hash, the key as canonical JSON (property names sorted; values of properties named like secrets masked as ***), when the call was made, its tokens and cost, and its size. -KeyPattern and -OlderThanDays pick entries, as Clear-CheckpointCache does, so a clear can be previewed.

The cmdlet only reads, without any lock, so it can watch a cache that runs are writing.
'@
            Parameters   = @{
                OutputDirectory = 'The folder of the runs whose cache to read: the cache is its cache folder. Relative paths are relative to the current location. RunSummary and RunStats objects bind it by property name.'
                CacheDirectory  = 'The cache folder itself, as given to Start-CheckpointRun -CacheDirectory.'
                Entry           = 'Writes the entries (CacheEntryInfo) instead of the summary (CacheInfo).'
                KeyPattern      = @{
                    Description = 'With -Entry: only the entries whose key (canonical JSON, such as {"body":{"model":"gpt-4o",...},"endpoint":"..."}) matches this wildcard pattern, case-insensitively.'
                    Wildcards   = $true
                }
                OlderThanDays   = 'With -Entry: only the entries made more than this many days ago (0 to 36500; fractions allowed).'
            }
            Examples     = @(
                @{
                    Title   = 'See how large the cache of ./outputs is'
                    Code    = 'Get-CheckpointCache'
                    Remarks = 'Writes the number of entries, damaged entries and segments, the size in bytes, and the times of the oldest and newest entries.'
                }
                @{
                    Title   = 'List the cached calls to one model'
                    Code    = 'Get-CheckpointCache -Entry -KeyPattern ''*"model":"gpt-4o-mini"*'' | Select-Object CreatedAt, InputTokens, Cost'
                    Remarks = 'Keys are matched as canonical JSON: property names sorted, no white space.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String'; Description = 'An output directory, by the OutputDirectory property of the input object (RunStats and RunSummary have it).' }
            )
            Outputs      = @(
                @{ Type = 'Checkpoint.Cache.CacheInfo'; Description = 'The cache: Directory, Entries, DamagedEntries, Segments, SizeBytes, OldestEntry, NewestEntry.' }
                @{ Type = 'Checkpoint.Cache.CacheEntryInfo'; Description = 'With -Entry, each entry: Hash, Key, CreatedAt, InputTokens, OutputTokens, Cost, SizeBytes, Segment.' }
            )
            Notes        = @'
The cache holds outputs, never secrets: the key is what the block passes (headers are not part of it), and a property named like a secret is masked in the stored key. A cache on a shared file system is safe to read and write from many machines at once: each process writes segment files of its own.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Resume-CheckpointRun', 'Get-CheckpointStats', 'Get-CheckpointResult', 'Remove-Checkpoint', 'Clear-CheckpointCache')
        }

        'Clear-CheckpointCache' = @{
            Synopsis     = 'Removes entries from a response cache: all of them, those older than some days, or those whose key matches a pattern.'
            Description  = @'
Clear-CheckpointCache removes entries from the response cache that $CheckpointContext.Cached keeps (by default <OutputDirectory>/cache, or -CacheDirectory): every entry, or those -OlderThanDays and -KeyPattern pick (both must match when both are given). Damaged entries are always removed. The runs' results are not touched; a removed call is made, and paid, again the next time a block asks for it.

Each segment file that loses entries is rewritten as a new segment (written whole and synced before it takes a segment's name), then the old one is deleted, so a process reading the cache meanwhile finds every entry that is kept. Entries that a run appends to a segment while it is being cleared are lost (they are paid again later), never damaged: clear a cache when no run writes to it.

Removing cannot be undone, so the cmdlet asks for confirmation by default (its ConfirmImpact is High). -Force or -Confirm:$false removes without asking; -WhatIf says how many entries would be removed and removes nothing, even with -Force.
'@
            Parameters   = @{
                OutputDirectory = 'The folder of the runs whose cache to clear: the cache is its cache folder. Relative paths are relative to the current location.'
                CacheDirectory  = 'The cache folder itself, as given to Start-CheckpointRun -CacheDirectory.'
                KeyPattern      = @{
                    Description = 'Removes only the entries whose key (canonical JSON) matches this wildcard pattern, case-insensitively.'
                    Wildcards   = $true
                }
                OlderThanDays   = 'Removes only the entries made more than this many days ago (0 to 36500; fractions allowed).'
                Force           = 'Removes without asking for confirmation. -WhatIf still only says what would be removed.'
                WhatIf          = 'Says how many entries would be removed. Nothing is removed.'
                Confirm         = 'Prompts for confirmation first. This is the default; use -Confirm:$false or -Force to remove without asking.'
            }
            Examples     = @(
                @{
                    Title   = 'Remove the calls older than 30 days'
                    Code    = 'Clear-CheckpointCache -OlderThanDays 30 -Force'
                    Remarks = 'Keeps the entries of the last 30 days in ./outputs/cache.'
                }
                @{
                    Title   = 'Forget one model''s calls, after a check'
                    Code    = "Clear-CheckpointCache -KeyPattern '*`"model`":`"llama3.1:8b`"*' -WhatIf"
                    Remarks = 'Says how many entries would be removed; run it again without -WhatIf to remove them.'
                }
            )
            Inputs       = @(
                @{ Type = 'System.String'; Description = 'An output directory, by the OutputDirectory property of the input object.' }
            )
            Outputs      = @(
                @{ Type = 'None'; Description = 'The cmdlet writes no objects. With -Verbose it says how many entries it removed.' }
            )
            Notes        = @'
To turn the cache off for a run instead, start it with -NoCache. Remove-Checkpoint deletes a run's files and never its cache, which other runs may share.
'@
            RelatedLinks = @('about_Checkpoint', 'Start-CheckpointRun', 'Resume-CheckpointRun', 'Get-CheckpointStats', 'Get-CheckpointResult', 'Remove-Checkpoint', 'Get-CheckpointCache')
        }
    }
}
