using System;
using System.Collections;
using System.Globalization;

namespace Checkpoint.Sharding;

/// <summary>
/// Reads the shard of an array task from the scheduler's environment (<c>-Shard auto</c>): Slurm
/// (SLURM_ARRAY_TASK_ID, _MIN, _MAX, _STEP, _COUNT), AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, 0-based, with
/// AWS_BATCH_JOB_ARRAY_SIZE) or Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, 0-based, with the count from
/// -ShardCount or CHECKPOINT_SHARD_COUNT, since Kubernetes does not expose it). The shard is (k, n), never a
/// scheduler job id, so a requeued task is the same shard.
/// </summary>
public static class ShardSource
{
    /// <summary>
    /// The shard the environment describes, and a sentence naming the source. Throws
    /// <see cref="CheckpointException"/> (<see cref="ErrorIds.ShardAutoFailed"/>) with what was looked for.
    /// </summary>
    public static (ShardSpec Shard, string Source) Resolve(IDictionary environment, int? shardCount)
    {
        string? slurmId = Get(environment, "SLURM_ARRAY_TASK_ID");
        if (slurmId is not null)
        {
            return FromSlurm(environment, slurmId);
        }

        string? awsIndex = Get(environment, "AWS_BATCH_JOB_ARRAY_INDEX");
        if (awsIndex is not null)
        {
            int index = Number(awsIndex, "AWS_BATCH_JOB_ARRAY_INDEX");
            int size = Number(Get(environment, "AWS_BATCH_JOB_ARRAY_SIZE") ?? throw Fail("AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not."), "AWS_BATCH_JOB_ARRAY_SIZE");
            return (Make(index + 1, size, "AWS Batch"), $"AWS Batch array index {index} of size {size}");
        }

        string? k8sIndex = Get(environment, "JOB_COMPLETION_INDEX");
        if (k8sIndex is not null)
        {
            int index = Number(k8sIndex, "JOB_COMPLETION_INDEX");
            string? countText = shardCount?.ToString(CultureInfo.InvariantCulture) ?? Get(environment, "CHECKPOINT_SHARD_COUNT");
            if (countText is null)
            {
                throw Fail("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the shard count is unknown: Kubernetes does not expose it. Pass -ShardCount or set CHECKPOINT_SHARD_COUNT to the Job's completions.");
            }

            int count = Number(countText, "the shard count");
            return (Make(index + 1, count, "Kubernetes"), $"Kubernetes JOB_COMPLETION_INDEX {index} with {count} shards ({(shardCount is null ? "CHECKPOINT_SHARD_COUNT" : "-ShardCount")})");
        }

        throw Fail("-Shard auto found no array task in the environment: it looks for SLURM_ARRAY_TASK_ID (Slurm), AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch) and JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Outside an array job, pass -Shard k/n.");
    }

    private static (ShardSpec, string) FromSlurm(IDictionary environment, string idText)
    {
        int id = Number(idText, "SLURM_ARRAY_TASK_ID");
        string? minText = Get(environment, "SLURM_ARRAY_TASK_MIN");
        string? maxText = Get(environment, "SLURM_ARRAY_TASK_MAX");
        string? countText = Get(environment, "SLURM_ARRAY_TASK_COUNT");
        if (minText is null || maxText is null || countText is null)
        {
            throw Fail("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN, _MAX or _COUNT is not. Pass -Shard ID/N instead.");
        }

        int min = Number(minText, "SLURM_ARRAY_TASK_MIN");
        int max = Number(maxText, "SLURM_ARRAY_TASK_MAX");
        int count = Number(countText, "SLURM_ARRAY_TASK_COUNT");
        int step = Get(environment, "SLURM_ARRAY_TASK_STEP") is string stepText ? Number(stepText, "SLURM_ARRAY_TASK_STEP") : 1;
        if (step < 1 || count < 1 || (long)min + ((long)(count - 1) * step) != max || (id - min) % step != 0 || id < min || id > max)
        {
            throw Fail(string.Format(
                CultureInfo.InvariantCulture,
                "The Slurm array is not a regular range (task {0}, min {1}, max {2}, step {3}, count {4}), as with --array=1,3,5: its task ids do not map to shards. Pass -Shard ID/N, for example -Shard $env:SLURM_ARRAY_TASK_ID/<number of shards>, with ids from 1 to N.",
                id,
                min,
                max,
                step,
                count));
        }

        int k = ((id - min) / step) + 1;
        return (Make(k, count, "Slurm"), string.Format(CultureInfo.InvariantCulture, "Slurm array task {0} ({1}-{2}:{3}, {4} tasks)", id, min, max, step, count));
    }

    private static ShardSpec Make(int k, int n, string source)
    {
        if (n < 1 || k < 1 || k > n)
        {
            throw Fail($"The {source} variables give shard {k}/{n}, which is not a shard.");
        }

        return new ShardSpec(k, n);
    }

    private static int Number(string text, string name)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value))
        {
            throw Fail($"{name} is '{text}', which is not a whole number. Pass -Shard k/n instead.");
        }

        return value;
    }

    private static string? Get(IDictionary environment, string name) =>
        environment.Contains(name) && environment[name] is string value && value.Length > 0 ? value : null;

    private static CheckpointException Fail(string message) => new(ErrorIds.ShardAutoFailed, message);
}
