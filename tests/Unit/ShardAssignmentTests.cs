using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using Checkpoint.Runs;
using Xunit;
using Checkpoint.Sharding;

namespace Checkpoint.Tests;

public sealed class ShardAssignmentTests
{
    private static readonly string[] s_ids = Enumerable.Range(1, 5000).Select(i => "q" + i).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(16)]
    public void TheShardsOfARunHoldEverySampleExactlyOnceInRoughlyEqualParts(int count)
    {
        var seen = new Dictionary<string, int>();
        for (int k = 1; k <= count; k++)
        {
            foreach (string id in s_ids.Where(id => ShardMembership.IndexOf(id, count) == k - 1))
            {
                Assert.False(seen.ContainsKey(id), $"{id} is in two shards");
                seen[id] = k;
            }
        }

        Assert.Equal(s_ids.Length, seen.Count);
        int smallest = seen.GroupBy(p => p.Value).Min(g => g.Count());
        Assert.True(smallest > s_ids.Length / count * 0.8, $"a shard of {count} holds only {smallest} samples");
    }

    [Fact]
    public void MembershipDependsOnTheIdAloneNotOnOrderOrOtherRows()
    {
        var before = s_ids.ToDictionary(id => id, id => ShardMembership.IndexOf(id, 4));
        var shuffled = s_ids.OrderBy(id => id.GetHashCode()).Concat(new[] { "new1", "new2" }).ToArray();
        foreach (string id in shuffled.Where(before.ContainsKey))
        {
            Assert.Equal(before[id], ShardMembership.IndexOf(id, 4));
        }
    }

    [Theory]
    [InlineData("q1", 4, 3)]
    [InlineData("q2", 4, 2)]
    [InlineData("r0123456789abcdef", 7, 3)]
    public void MembershipIsTheSameOnEveryMachine(string id, int count, int expected)
    {
        // Pinned values: the rule is the first eight bytes of SHA-256(id), little-endian, mod n, the same on
        // every machine; a change here would move samples between shards of running studies.
        Assert.Equal(expected, ShardMembership.IndexOf(id, count));
        byte[] digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id));
        ulong value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(digest);
        Assert.Equal((int)(value % (ulong)count), ShardMembership.IndexOf(id, count));
    }

    [Theory]
    [InlineData("1", "1", "4", "1", "4", 1, 4)]
    [InlineData("3", "1", "4", "1", "4", 3, 4)]
    [InlineData("0", "0", "3", "1", "4", 1, 4)]
    [InlineData("10", "0", "30", "10", "4", 2, 4)]
    [InlineData("7", "7", "7", null, "1", 1, 1)]
    public void SlurmArraysGiveTheirTaskAsAShard(string id, string min, string max, string? step, string count, int k, int n)
    {
        var env = new Hashtable
        {
            ["SLURM_ARRAY_TASK_ID"] = id,
            ["SLURM_ARRAY_TASK_MIN"] = min,
            ["SLURM_ARRAY_TASK_MAX"] = max,
            ["SLURM_ARRAY_TASK_COUNT"] = count,
        };
        if (step is not null)
        {
            env["SLURM_ARRAY_TASK_STEP"] = step;
        }

        (ShardSpec shard, string source) = ShardSource.Resolve(env, null);
        Assert.Equal(k, shard.Index);
        Assert.Equal(n, shard.Count);
        Assert.Contains("Slurm", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3", "1", "5", "1", "3")]
    [InlineData("2", "1", "5", "2", "3")]
    [InlineData("x", "1", "4", "1", "4")]
    [InlineData("1", "1", "4", "1", "")]
    public void SparseOrMalformedSlurmArraysAreRefusedWithAdvice(string id, string min, string max, string step, string count)
    {
        var env = new Hashtable
        {
            ["SLURM_ARRAY_TASK_ID"] = id,
            ["SLURM_ARRAY_TASK_MIN"] = min,
            ["SLURM_ARRAY_TASK_MAX"] = max,
            ["SLURM_ARRAY_TASK_STEP"] = step,
            ["SLURM_ARRAY_TASK_COUNT"] = count,
        };
        CheckpointException e = Assert.Throws<CheckpointException>(() => ShardSource.Resolve(env, null));
        Assert.Equal(ErrorIds.ShardAutoFailed, e.ErrorId);
        Assert.Contains("-Shard", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AwsBatchAndKubernetesIndexesAreZeroBased()
    {
        (ShardSpec aws, _) = ShardSource.Resolve(new Hashtable { ["AWS_BATCH_JOB_ARRAY_INDEX"] = "0", ["AWS_BATCH_JOB_ARRAY_SIZE"] = "5" }, null);
        Assert.Equal("1/5", aws.ToString());
        (ShardSpec k8s, string source) = ShardSource.Resolve(new Hashtable { ["JOB_COMPLETION_INDEX"] = "3", ["CHECKPOINT_SHARD_COUNT"] = "4" }, null);
        Assert.Equal("4/4", k8s.ToString());
        Assert.Contains("CHECKPOINT_SHARD_COUNT", source, StringComparison.Ordinal);
        (ShardSpec given, string givenSource) = ShardSource.Resolve(new Hashtable { ["JOB_COMPLETION_INDEX"] = "1", ["CHECKPOINT_SHARD_COUNT"] = "4" }, 2);
        Assert.Equal("2/2", given.ToString());
        Assert.Contains("-ShardCount", givenSource, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("JOB_COMPLETION_INDEX", "0", "shard count")]
    [InlineData("JOB_COMPLETION_INDEX", "4", "shard count")]
    [InlineData("AWS_BATCH_JOB_ARRAY_INDEX", "0", "AWS_BATCH_JOB_ARRAY_SIZE")]
    [InlineData("NOTHING", "1", "SLURM_ARRAY_TASK_ID")]
    public void MissingOrOutOfRangeValuesNameWhatWasLookedFor(string name, string value, string named)
    {
        CheckpointException e = Assert.Throws<CheckpointException>(() => ShardSource.Resolve(new Hashtable { [name] = value }, null));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointException>(() => ShardSource.Resolve(new Hashtable { ["JOB_COMPLETION_INDEX"] = "4", ["CHECKPOINT_SHARD_COUNT"] = "4" }, null));
    }
}
